/**
 * Changes API (docs/changes.md):
 *
 *   POST /api/v1/changes       announce  ChangeInput → 201 ChangeCreated; 400 {error, field} naming the field
 *   GET  /api/v1/changes       read      ?since | from&to (default 24h), service, kind (comma-separated), source, limit → ChangesResponse
 *   GET  /api/v1/changes/:id   read      ChangeEntry
 *
 * Posting takes an ingest token as well as a write one: CI/CD pipelines that send telemetry hold
 * ingest tokens, and announcing a deploy is telemetry about the system, not configuration of Vigil.
 */
import type { FastifyInstance } from 'fastify';
import type { ChangeCreated, ChangeEntry, ChangeKind, ChangeSource, ChangesResponse } from '../../api/contract.ts';
import { CHANGE_KINDS, ChangeInputError, parseChangeInput } from '../../changes/input.ts';
import type { ChangeService } from '../../changes/service.ts';
import type { ChangeRecord } from '../../store/state/changes.ts';
import { ParamError, parseTimeRange } from '../../query/time-range.ts';

/** What the change routes need. */
export interface ChangeRouteContext {
  changes: Pick<ChangeService, 'record' | 'list' | 'get'>;
  now?: () => number;
}

type ListQuery = { since?: string; from?: string; to?: string; service?: string; kind?: string; source?: string; limit?: string };

const SOURCES: readonly ChangeSource[] = ['api', 'cli', 'detected'];
const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 5000;

/** A stored change as the API shows it. */
export function changeEntry(c: ChangeRecord): ChangeEntry {
  return {
    id: c.id,
    at: new Date(c.at).toISOString(),
    service: c.service,
    namespace: c.namespace,
    kind: c.kind,
    version: c.version,
    previousVersion: c.previousVersion,
    description: c.description,
    author: c.author,
    commit: c.commit,
    source: c.source,
    attributes: c.attributes,
    createdAt: new Date(c.createdAt).toISOString(),
  };
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (text === undefined || text === '') return undefined;
  const values = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const v of values) if (!(allowed as readonly string[]).includes(v)) throw new ParamError(`${name}: "${v.slice(0, 40)}" is not one of ${allowed.join(', ')}`);
  return values as T[];
}

/** Registers the change routes. */
export function registerChangeRoutes(app: FastifyInstance, ctx: ChangeRouteContext): void {
  const now = ctx.now ?? Date.now;

  // A change is a few hundred bytes; 64 KiB leaves room for attributes and stops anything else.
  app.post('/api/v1/changes', { config: { access: 'announce' }, bodyLimit: 64 * 1024 }, async (req, reply) => {
    let change;
    try {
      change = parseChangeInput(req.body, now());
    } catch (err) {
      if (err instanceof ChangeInputError) return reply.code(400).send({ error: err.message, field: err.field });
      throw err;
    }
    const id = await ctx.changes.record(change);
    return reply.code(201).send({ id } satisfies ChangeCreated);
  });

  app.get('/api/v1/changes', { config: { access: 'read' } }, async (req, reply): Promise<ChangesResponse | undefined> => {
    const q = req.query as ListQuery;
    let filter;
    try {
      const r = parseTimeRange(q, new Date(now()), '24h');
      const limit = q.limit === undefined || q.limit === '' ? DEFAULT_LIMIT : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ParamError(`limit: expected a whole number from 1 to ${MAX_LIMIT}`);
      filter = {
        from: Number(r.fromNs / 1_000_000n),
        to: Number(r.toNs / 1_000_000n),
        service: q.service || undefined,
        kinds: oneOf<ChangeKind>('kind', q.kind, CHANGE_KINDS),
        sources: oneOf<ChangeSource>('source', q.source, SOURCES),
        limit,
      };
    } catch (err) {
      if (err instanceof ParamError) return reply.code(400).send({ error: err.message });
      throw err;
    }
    // One more than asked tells whether the answer was cut.
    const rows = await ctx.changes.list({ ...filter, limit: filter.limit + 1 });
    return {
      from: new Date(filter.from).toISOString(),
      to: new Date(filter.to).toISOString(),
      changes: rows.slice(0, filter.limit).map(changeEntry),
      truncated: rows.length > filter.limit,
    };
  });

  app.get('/api/v1/changes/:id', { config: { access: 'read' } }, async (req, reply) => {
    const text = (req.params as { id: string }).id;
    const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    const c = Number.isSafeInteger(id) ? await ctx.changes.get(id) : undefined;
    if (!c) return reply.code(404).send({ error: `no change "${text.slice(0, 40)}"` });
    return changeEntry(c);
  });
}
