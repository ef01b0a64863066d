/**
 * Monitors API: `/api/v1/monitors` (list, create), `/api/v1/monitors/:id` (get, replace, delete),
 * `/:id/check` (run now), `/:id/results`, `/:id/uptime`, `/:id/downtimes`, `/api/v1/systems/uptime`,
 * and the public heartbeat endpoint `/api/v1/push/:token`. Reads need read access, changes write
 * access; monitors defined in files are read-only here.
 */
import type { MonitorListItem, MonitorStatus } from '../../api/contract.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { allows } from '../access.ts';
import { MonitorError, type MonitorService } from '../../monitors/service.ts';
import type { MonitorScheduler } from '../../monitors/scheduler.ts';
import { applySavedSecrets, maskSpec, scrubDeep, SecretFieldError, secretScrubber } from '../../monitors/secrets.ts';
import { describeIssues, monitorSpecSchema, type MonitorSpec } from '../../monitors/spec.ts';
import type { StoredMonitor } from '../../store/state/monitors.ts';
import { parseTimeRange, ParamError } from '../../query/time-range.ts';

/** What the monitor routes need. */
export interface MonitorRouteContext {
  service: MonitorService;
  scheduler: MonitorScheduler;
  now?: () => Date;
}

type Params = { id: string };
type RangeQuery = { since?: string; from?: string; to?: string; limit?: string };

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof MonitorError) return reply.code(err.status).send({ error: err.message });
  if (err instanceof ParamError || err instanceof SecretFieldError) return reply.code(400).send({ error: err.message });
  throw err;
}

/** Registers the monitor routes. */
export function registerMonitorRoutes(app: FastifyInstance, ctx: MonitorRouteContext): void {
  const now = ctx.now ?? (() => new Date());
  const range = (q: RangeQuery, fallback: string) => {
    const r = parseTimeRange(q, now(), fallback);
    return { from: Number(r.fromNs / 1_000_000n), to: Number(r.toNs / 1_000_000n) };
  };
  // Saved secrets are write-only for every role (src/monitors/secrets.ts): definitions are masked and
  // the last result scrubbed (it may predate masking at the source). The push token lets anyone send
  // heartbeats and has to be copied into the job: only principals who may change monitors see it.
  const view = (m: StoredMonitor & { state?: MonitorStatus }, canWrite: boolean): MonitorListItem => ({
    ...maskSpec(m.spec),
    source: m.source,
    file: m.file,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    ...(m.state ? { status: scrubDeep(m.state, secretScrubber(m.spec)) } : {}),
    ...(m.pushToken && canWrite ? { pushToken: m.pushToken, pushPath: `/api/v1/push/${m.pushToken}` } : {}),
  });
  const parseSpec = (body: unknown): MonitorSpec => {
    const r = monitorSpecSchema.safeParse(body);
    if (!r.success) throw new MonitorError(400, describeIssues(r.error).join('; '));
    return r.data;
  };

  app.get('/api/v1/monitors', { config: { access: 'read' } }, async (req) => {
    const canWrite = allows(req.principal, 'write');
    return { monitors: (await ctx.service.list()).map((m) => view(m, canWrite)), fileErrors: ctx.service.fileErrors() };
  });

  app.post('/api/v1/monitors', { config: { access: 'write' } }, async (req, reply) => {
    try {
      const m = await ctx.service.create(applySavedSecrets(req.body, undefined, parseSpec));
      return reply.code(201).send(view(m, true));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/monitors/:id', { config: { access: 'read' } }, async (req, reply) => {
    const m = await ctx.service.get((req.params as Params).id);
    if (!m) return reply.code(404).send({ error: `no monitor "${(req.params as Params).id}"` });
    return view(m, allows(req.principal, 'write'));
  });

  app.put('/api/v1/monitors/:id', { config: { access: 'write' } }, async (req, reply) => {
    try {
      const id = (req.params as Params).id;
      const body = req.body && typeof req.body === 'object' && !('id' in req.body) ? { ...req.body, id } : req.body;
      return view(await ctx.service.update(id, (saved) => applySavedSecrets(body, saved, parseSpec)), true);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete('/api/v1/monitors/:id', { config: { access: 'write' } }, async (req, reply) => {
    try {
      await ctx.service.remove((req.params as Params).id);
      return reply.code(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/api/v1/monitors/:id/check', { config: { access: 'write' } }, async (req, reply) => {
    const r = await ctx.scheduler.runNow((req.params as Params).id);
    if (!r) return reply.code(404).send({ error: `no monitor "${(req.params as Params).id}"` });
    return r;
  });

  app.get('/api/v1/monitors/:id/results', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const id = (req.params as Params).id;
      if (!(await ctx.service.get(id))) return reply.code(404).send({ error: `no monitor "${id}"` });
      const q = req.query as RangeQuery;
      const { from, to } = range(q, '1h');
      const limit = q.limit === undefined ? 1000 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ParamError('limit: expected a positive integer');
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), results: await ctx.service.results(id, from, to, limit) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/monitors/:id/uptime', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const id = (req.params as Params).id;
      if (!(await ctx.service.get(id))) return reply.code(404).send({ error: `no monitor "${id}"` });
      const { from, to } = range(req.query as RangeQuery, '24h');
      return { windows: await ctx.service.uptime(id, now().getTime()), responseTime: await ctx.service.responseTimes(id, from, to) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/monitors/:id/downtimes', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const id = (req.params as Params).id;
      const m = await ctx.service.get(id);
      if (!m) return reply.code(404).send({ error: `no monitor "${id}"` });
      const { from, to } = range(req.query as RangeQuery, '30d');
      const downtimes = scrubDeep(await ctx.service.downtimes(id, from, to), secretScrubber(m.spec));
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), downtimes };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/systems/uptime', { config: { access: 'read' } }, async () => ({ systems: await ctx.service.systems(now().getTime()) }));

  // Heartbeats: public, the unguessable token is the credential. `?status=down&msg=...` reports a failed run.
  const push = async (token: string, q: { status?: string; msg?: string }, reply: FastifyReply) => {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return reply.code(404).send({ ok: false, error: 'unknown push token' });
    const status = q.status === 'down' ? 'down' : 'up';
    const id = await ctx.scheduler.push(token, status, typeof q.msg === 'string' ? q.msg : undefined);
    if (!id) return reply.code(404).send({ ok: false, error: 'unknown push token' });
    return { ok: true };
  };
  app.post('/api/v1/push/:token', { config: { access: 'public' } }, async (req, reply) => push((req.params as { token: string }).token, { ...(req.query as object), ...(req.body && typeof req.body === 'object' ? req.body : {}) }, reply));
  app.get('/api/v1/push/:token', { config: { access: 'public' } }, async (req, reply) => push((req.params as { token: string }).token, req.query as object, reply));
}
