/**
 * Incidents API (docs/incidents.md):
 *
 *   POST /api/v1/incidents                write  IncidentCreateRequest → 201 IncidentCreated
 *   GET  /api/v1/incidents                read   ?status=open|resolved|closed|all|<state>, service, system, limit → IncidentListResponse
 *   GET  /api/v1/incidents/:id            read   IncidentDetail (timeline, linked alerts, allowed moves)
 *   POST /api/v1/incidents/:id/status     write  IncidentStatusRequest → IncidentDetail; 409 {error, allowed} for a refused move
 *   POST /api/v1/incidents/:id/notes      write  IncidentNoteRequest → 201 IncidentDetail
 *   POST /api/v1/incidents/:id/assign     write  IncidentAssignRequest → IncidentDetail
 *   POST /api/v1/incidents/:id/severity   write  IncidentSeverityRequest → IncidentDetail
 *
 * A refused body answers 400 {error, field}. Every change is audited (`incident.opened`,
 * `incident.status_changed`, `incident.note_added`, `incident.assigned`, `incident.severity_changed`) with what changed, and is on
 * the incident's timeline with who made it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  IncidentCreated,
  IncidentDetail,
  IncidentLinkedAlert,
  IncidentListResponse,
  IncidentSummary,
  IncidentTimelineEvent,
} from '../../api/contract.ts';
import { isSeverity } from '../../incidents/reducer.ts';
import { TransitionRefusedError, type IncidentDetailView, type IncidentService } from '../../incidents/service.ts';
import { INCIDENT_STATUSES, isIncidentStatus, mtta, mttr, type IncidentClock } from '../../incidents/state.ts';
import type { AuditLog } from '../../store/state/audit.ts';
import type { IncidentFilter, IncidentRecord } from '../../store/state/incidents.ts';
import { auditChange } from './alerting.ts';
import { changeEntry } from './changes.ts';

/** What the incident routes need. */
export interface IncidentRouteContext {
  incidents: Pick<IncidentService, 'open' | 'list' | 'detail' | 'setStatus' | 'addNote' | 'assign' | 'setSeverity'>;
  audit?: Pick<AuditLog, 'record'>;
}

/** A request body field that is not acceptable. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const MAX_TEXT = 10_000;
const MAX_NAME = 200;
const MAX_LIST = 50;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 1000));

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new FieldError('body', 'expected a JSON object');
  return b as Record<string, unknown>;
}

function text(b: Record<string, unknown>, field: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) {
    if (opts.required) throw new FieldError(field, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw new FieldError(field, 'expected a string');
  const t = v.trim();
  if (opts.required && t === '') throw new FieldError(field, 'must not be empty');
  if (t.length > (opts.max ?? MAX_TEXT)) throw new FieldError(field, `at most ${opts.max ?? MAX_TEXT} characters`);
  return t;
}

function names(b: Record<string, unknown>, field: string): string[] | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '' || x.length > MAX_NAME)) throw new FieldError(field, `expected a list of non-empty names (at most ${MAX_NAME} characters each)`);
  if (v.length > MAX_LIST) throw new FieldError(field, `at most ${MAX_LIST} names`);
  return [...new Set((v as string[]).map((x) => x.trim()))];
}

const actorOf = (req: FastifyRequest): string => (req.principal ? `${req.principal.kind}:${req.principal.name}` : 'anonymous');

function clockOf(r: IncidentRecord): IncidentClock {
  return { status: r.status, openedAt: r.openedAt, acknowledgedAt: r.acknowledgedAt, resolvedAt: r.resolvedAt, closedAt: r.closedAt };
}

/** A stored incident as lists show it. */
export function incidentSummary(r: IncidentRecord): IncidentSummary {
  const c = clockOf(r);
  return {
    id: r.id,
    title: r.title,
    severity: r.severity,
    status: r.status,
    commander: r.commander,
    assignees: r.assignees,
    services: r.services,
    systems: r.systems,
    source: r.source,
    openedAt: new Date(r.openedAt).toISOString(),
    acknowledgedAt: iso(r.acknowledgedAt),
    resolvedAt: iso(r.resolvedAt),
    closedAt: iso(r.closedAt),
    mttaSeconds: seconds(mtta(c)),
    mttrSeconds: seconds(mttr(c)),
  };
}

/** An incident with its timeline as `GET /api/v1/incidents/{id}` answers it. */
export function incidentDetail(d: IncidentDetailView): IncidentDetail {
  const timeline: IncidentTimelineEvent[] = d.timeline.map((e) => {
    const { kind, ...data } = e.data;
    return { id: e.id, at: new Date(e.at).toISOString(), kind, actor: e.actor, data };
  });
  const alerts: IncidentLinkedAlert[] = d.view.alerts.map((a) => ({
    ruleId: a.ruleId,
    fingerprint: a.fingerprint,
    labels: a.labels,
    state: a.state,
    linkedAt: new Date(a.linkedAt).toISOString(),
    resolvedAt: iso(a.resolvedAt),
  }));
  const v = d.view.verification;
  return {
    ...incidentSummary(d.record),
    description: d.record.description,
    correlationKey: d.record.correlationKey,
    timeline,
    alerts,
    allowedTransitions: [...d.allowed],
    relatedIncidentId: d.view.relatedIncidentId,
    changes: d.changes.map(changeEntry),
    verification: v
      ? { state: v.state, startedAt: new Date(v.startedAt).toISOString(), endsAt: new Date(v.endsAt).toISOString(), finishedAt: iso(v.finishedAt), reason: v.reason, checks: v.checks }
      : null,
  };
}

/** The `{id}` route parameter as an incident id, undefined when it is not one. */
export function idParam(req: FastifyRequest): number | undefined {
  const t = (req.params as { id: string }).id;
  const id = /^\d{1,15}$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** 404 for an unknown incident. */
export const notFound = (reply: FastifyReply, req: FastifyRequest) => reply.code(404).send({ error: `no incident "${String((req.params as { id: string }).id).slice(0, 40)}"` });

/** Registers the incident routes. */
export function registerIncidentRoutes(app: FastifyInstance, ctx: IncidentRouteContext): void {
  const { incidents } = ctx;
  // The routes write their own audit entries (with what changed), not the generic config.changed.
  const write = { config: { access: 'write' as const, audited: true }, bodyLimit: 64 * 1024 };

  /** Runs a handler, answering a refused field with 400 {error, field}. */
  const guarded =
    (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      try {
        return await fn(req, reply);
      } catch (err) {
        if (err instanceof FieldError) return reply.code(400).send({ error: err.message, field: err.field });
        throw err;
      }
    };

  const answer = async (req: FastifyRequest, reply: FastifyReply, id: number, status = 200) => {
    const d = await incidents.detail(id);
    if (!d) return notFound(reply, req);
    return reply.code(status).send(incidentDetail(d));
  };

  app.post(
    '/api/v1/incidents',
    write,
    guarded(async (req, reply) => {
      const b = body(req);
      const title = text(b, 'title', { required: true, max: MAX_NAME })!;
      const severity = b.severity;
      if (severity !== undefined && !isSeverity(severity)) throw new FieldError('severity', 'expected SEV1, SEV2, SEV3 or SEV4');
      const startedText = text(b, 'startedAt', { max: 64 });
      let startedAt: number | undefined;
      if (startedText !== undefined) {
        startedAt = Date.parse(startedText);
        if (!/^\d{4}-\d\d-\d\dT/.test(startedText) || Number.isNaN(startedAt)) throw new FieldError('startedAt', 'expected an RFC 3339 time such as 2026-12-04T09:30:00Z');
      }
      const input = { title, severity, services: names(b, 'services'), systems: names(b, 'systems'), description: text(b, 'description'), startedAt };
      const id = await incidents.open(input, actorOf(req));
      await auditChange(ctx.audit, req, 'incident.opened', `incident:${id}`, { title, severity: severity ?? 'SEV3', services: input.services ?? [], systems: input.systems ?? [] });
      return reply.code(201).send({ id } satisfies IncidentCreated);
    }),
  );

  app.get('/api/v1/incidents', { config: { access: 'read' } }, async (req, reply): Promise<IncidentListResponse | undefined> => {
    const q = req.query as { status?: string; service?: string; system?: string; limit?: string };
    const status = q.status || 'open';
    if (status !== 'open' && status !== 'all' && !isIncidentStatus(status)) {
      return reply.code(400).send({ error: `status: expected open, all or one of ${INCIDENT_STATUSES.join(', ')}` });
    }
    const limit = q.limit === undefined || q.limit === '' ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return reply.code(400).send({ error: `limit: expected a whole number from 1 to ${MAX_LIMIT}` });
    const filter: IncidentFilter = { status: status as IncidentFilter['status'], service: q.service || undefined, system: q.system || undefined, limit };
    return { incidents: (await incidents.list(filter)).map(incidentSummary) };
  });

  app.get('/api/v1/incidents/:id', { config: { access: 'read' } }, async (req, reply) => {
    const id = idParam(req);
    return id === undefined ? notFound(reply, req) : answer(req, reply, id);
  });

  app.post(
    '/api/v1/incidents/:id/status',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      if (id === undefined) return notFound(reply, req);
      const b = body(req);
      const to = b.status;
      if (!isIncidentStatus(to)) throw new FieldError('status', `expected one of ${INCIDENT_STATUSES.join(', ')}`);
      const note = text(b, 'note');
      try {
        const moved = await incidents.setStatus(id, to, note || undefined, actorOf(req));
        if (!moved) return notFound(reply, req);
        await auditChange(ctx.audit, req, 'incident.status_changed', `incident:${id}`, { from: moved.from, to, ...(note ? { note } : {}) });
      } catch (err) {
        if (err instanceof TransitionRefusedError) return reply.code(409).send({ error: err.message, allowed: err.allowed });
        throw err;
      }
      return answer(req, reply, id);
    }),
  );

  app.post(
    '/api/v1/incidents/:id/notes',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      if (id === undefined) return notFound(reply, req);
      const note = text(body(req), 'text', { required: true })!;
      if (!(await incidents.addNote(id, note, actorOf(req)))) return notFound(reply, req);
      await auditChange(ctx.audit, req, 'incident.note_added', `incident:${id}`, { length: note.length });
      return answer(req, reply, id, 201);
    }),
  );

  app.post(
    '/api/v1/incidents/:id/severity',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      if (id === undefined) return notFound(reply, req);
      const severity = body(req).severity;
      if (!isSeverity(severity)) throw new FieldError('severity', 'expected SEV1, SEV2, SEV3 or SEV4');
      const changed = await incidents.setSeverity(id, severity, actorOf(req));
      if (!changed) return notFound(reply, req);
      if (changed.from !== severity) await auditChange(ctx.audit, req, 'incident.severity_changed', `incident:${id}`, { from: changed.from, to: severity });
      return answer(req, reply, id);
    }),
  );

  app.post(
    '/api/v1/incidents/:id/assign',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      if (id === undefined) return notFound(reply, req);
      const b = body(req);
      const commander = b.commander === null ? null : text(b, 'commander', { max: MAX_NAME });
      const assignees = names(b, 'assignees');
      if (commander === undefined && assignees === undefined) throw new FieldError('body', 'expected commander and/or assignees');
      const who = { ...(commander !== undefined ? { commander: commander === '' ? null : commander } : {}), ...(assignees !== undefined ? { assignees } : {}) };
      if (!(await incidents.assign(id, who, actorOf(req)))) return notFound(reply, req);
      await auditChange(ctx.audit, req, 'incident.assigned', `incident:${id}`, who);
      return answer(req, reply, id);
    }),
  );
}
