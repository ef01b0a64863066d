/**
 * Remediation API (docs/remediation.md):
 *
 *   GET    /api/v1/runbooks                       read   ?service=&rule= → RunbookListResponse
 *   POST   /api/v1/runbooks                       write  RunbookInput → 201 Runbook
 *   GET    /api/v1/runbooks/:id                   read   Runbook
 *   PUT    /api/v1/runbooks/:id                   write  RunbookInput → Runbook
 *   DELETE /api/v1/runbooks/:id                   write  204
 *   GET    /api/v1/actions                        read   RemediationActionListResponse (secret headers masked)
 *   POST   /api/v1/actions                        write  RemediationActionInput → 201 RemediationAction; 409 for a taken name
 *   GET    /api/v1/actions/:id                    read   RemediationAction
 *   PUT    /api/v1/actions/:id                    write  RemediationActionInput → RemediationAction
 *   DELETE /api/v1/actions/:id                    write  204
 *   GET    /api/v1/incidents/:id/remediation      read   IncidentRemediationResponse
 *   POST   /api/v1/incidents/:id/actions/:name/run write ActionRunRequest → ActionRunResponse;
 *                                                        without confirm: true → 400 {error, field: 'confirm', preview}
 *
 * Editing runbooks and actions takes the access editing alert rules takes (write). A refused field
 * answers 400 {error, field}. Changes are audited (`runbook.*`, `action.*`) and so is every run
 * (`action.run`: incident, action, input, outcome), which also goes on the incident's timeline.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RemediationActionListResponse, RunbookListResponse } from '../../api/contract.ts';
import { ActionNameTakenError, RemediationInputError } from '../../remediation/errors.ts';
import { previewOf } from '../../remediation/actions.ts';
import type { RemediationService } from '../../remediation/service.ts';
import type { AuditLog } from '../../store/state/audit.ts';
import { auditChange } from './alerting.ts';

/** What the remediation routes need. */
export interface RemediationRouteContext {
  remediation: RemediationService;
  audit?: Pick<AuditLog, 'record'>;
}

const actorOf = (req: FastifyRequest): string => (req.principal ? `${req.principal.kind}:${req.principal.name}` : 'anonymous');

function idParam(req: FastifyRequest): number | undefined {
  const t = (req.params as { id: string }).id;
  const id = /^\d{1,15}$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

const quoted = (text: string) => `"${String(text).slice(0, 60)}"`;

/** Registers the runbook, action and run routes. */
export function registerRemediationRoutes(app: FastifyInstance, ctx: RemediationRouteContext): void {
  const { remediation } = ctx;
  // The routes write their own audit entries (with what changed), not the generic config.changed.
  const write = { config: { access: 'write' as const, audited: true }, bodyLimit: 256 * 1024 };
  const read = { config: { access: 'read' as const } };

  /** Runs a handler, answering a refused field with 400 {error, field} and a taken name with 409. */
  const guarded =
    (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      try {
        return await fn(req, reply);
      } catch (err) {
        if (err instanceof RemediationInputError) return reply.code(400).send({ error: err.message, field: err.field });
        if (err instanceof ActionNameTakenError) return reply.code(409).send({ error: err.message, field: 'name' });
        throw err;
      }
    };

  const noRunbook = (req: FastifyRequest, reply: FastifyReply) => reply.code(404).send({ error: `no runbook ${quoted((req.params as { id: string }).id)}` });
  const noAction = (req: FastifyRequest, reply: FastifyReply) => reply.code(404).send({ error: `no action ${quoted((req.params as { id: string }).id)}` });

  // ---- runbooks ----

  app.get('/api/v1/runbooks', read, async (req): Promise<RunbookListResponse> => {
    const q = req.query as { service?: string; rule?: string };
    return { runbooks: await remediation.listRunbooks({ service: q.service || undefined, rule: q.rule || undefined }) };
  });

  app.post(
    '/api/v1/runbooks',
    write,
    guarded(async (req, reply) => {
      const r = await remediation.createRunbook(req.body, actorOf(req));
      await auditChange(ctx.audit, req, 'runbook.created', `runbook:${r.id}`, { title: r.title, scope: r.scope, actions: r.actions });
      return reply.code(201).send(r);
    }),
  );

  app.get('/api/v1/runbooks/:id', read, async (req, reply) => {
    const id = idParam(req);
    const r = id === undefined ? undefined : await remediation.getRunbook(id);
    return r ?? noRunbook(req, reply);
  });

  app.put(
    '/api/v1/runbooks/:id',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      const r = id === undefined ? undefined : await remediation.updateRunbook(id, req.body, actorOf(req));
      if (!r) return noRunbook(req, reply);
      await auditChange(ctx.audit, req, 'runbook.updated', `runbook:${r.id}`, { title: r.title, scope: r.scope, actions: r.actions });
      return r;
    }),
  );

  app.delete('/api/v1/runbooks/:id', write, async (req, reply) => {
    const id = idParam(req);
    const before = id === undefined ? undefined : await remediation.getRunbook(id);
    if (!before || !(await remediation.deleteRunbook(before.id))) return noRunbook(req, reply);
    await auditChange(ctx.audit, req, 'runbook.deleted', `runbook:${before.id}`, { title: before.title, scope: before.scope });
    return reply.code(204).send();
  });

  // ---- actions ----

  app.get('/api/v1/actions', read, async (): Promise<RemediationActionListResponse> => ({ actions: await remediation.listActions() }));

  app.post(
    '/api/v1/actions',
    write,
    guarded(async (req, reply) => {
      const a = await remediation.createAction(req.body, actorOf(req));
      // Secret header values never reach the audit log: only the names of the headers.
      await auditChange(ctx.audit, req, 'action.created', `action:${a.name}`, { method: a.method, url: a.url, headers: Object.keys(a.headers), services: a.services });
      return reply.code(201).send(a);
    }),
  );

  app.get('/api/v1/actions/:id', read, async (req, reply) => {
    const id = idParam(req);
    const a = id === undefined ? undefined : await remediation.getAction(id);
    return a ?? noAction(req, reply);
  });

  app.put(
    '/api/v1/actions/:id',
    write,
    guarded(async (req, reply) => {
      const id = idParam(req);
      const a = id === undefined ? undefined : await remediation.updateAction(id, req.body, actorOf(req));
      if (!a) return noAction(req, reply);
      await auditChange(ctx.audit, req, 'action.updated', `action:${a.name}`, { method: a.method, url: a.url, headers: Object.keys(a.headers), services: a.services });
      return a;
    }),
  );

  app.delete('/api/v1/actions/:id', write, async (req, reply) => {
    const id = idParam(req);
    const before = id === undefined ? undefined : await remediation.getAction(id);
    if (!before || !(await remediation.deleteAction(before.id))) return noAction(req, reply);
    await auditChange(ctx.audit, req, 'action.deleted', `action:${before.name}`, { url: before.url });
    return reply.code(204).send();
  });

  // ---- on an incident ----

  app.get('/api/v1/incidents/:id/remediation', read, async (req, reply) => {
    const id = idParam(req);
    const r = id === undefined ? undefined : await remediation.forIncident(id);
    return r ?? reply.code(404).send({ error: `no incident ${quoted((req.params as { id: string }).id)}` });
  });

  app.post(
    '/api/v1/incidents/:id/actions/:name/run',
    { ...write, bodyLimit: 64 * 1024 },
    guarded(async (req, reply) => {
      const params = req.params as { id: string; name: string };
      const id = idParam(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw new RemediationInputError('body', 'expected a JSON object');
      const prepared = id === undefined ? { missing: 'incident' as const } : await remediation.prepare(id, params.name, body.input);
      if ('missing' in prepared) {
        return reply.code(404).send({ error: prepared.missing === 'incident' ? `no incident ${quoted(params.id)}` : `no action ${quoted(params.name)}` });
      }
      // Nothing is sent until the responder has seen the request: the preview is what the UI confirms.
      if (body.confirm !== true) {
        return reply.code(400).send({ error: 'confirm: set confirm to true to run the action; preview is the request it will send', field: 'confirm', preview: previewOf(prepared.request) });
      }
      const result = await remediation.run(id!, prepared, actorOf(req));
      await auditChange(ctx.audit, req, 'action.run', `incident:${id}`, { action: prepared.action.name, input: prepared.input, url: result.request.url, ok: result.ok, status: result.status, ms: result.ms });
      return result;
    }),
  );
}
