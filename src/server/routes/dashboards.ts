/**
 * Dashboards and saved searches API:
 *
 *   GET    /api/v1/dashboards           read   list
 *   GET    /api/v1/dashboards/:id       read   one, with its spec
 *   POST   /api/v1/dashboards           write  create  {title, description?, spec}
 *   PUT    /api/v1/dashboards/:id       write  replace {title, description?, spec}
 *   DELETE /api/v1/dashboards/:id       write
 *   GET    /api/v1/saved-searches       read   the caller's own saved searches
 *   POST   /api/v1/saved-searches       read   save (or replace by name) {name, query, range?}
 *   DELETE /api/v1/saved-searches/:id   read   delete one of the caller's own
 *
 * Saved searches are private to whoever saved them (user or token), so anyone who may search may keep
 * their own. Built-in dashboards (hosts and processes) are created once, when the server first starts;
 * systems' own dashboards (the demo's, for one) are created through this API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { StateDb } from '../../store/state/db.ts';
import { DashboardStore } from '../../store/state/dashboards.ts';
import type { DashboardSpec } from '../../api/contract.ts';

const name = z.string().trim().min(1).max(200);
const query = z.string().max(4000);

const panel = z.object({
  id: z.string().min(1).max(64),
  title: z.string().max(200),
  type: z.enum(['timeseries', 'stat', 'bar', 'table', 'toplist']),
  source: z.enum(['search', 'metric']),
  query: query.optional(),
  metric: z
    .object({
      name: z.string().min(1).max(255),
      agg: z.string().max(20).optional(),
      group_by: z.string().max(255).optional(),
      service: z.string().max(255).optional(),
    })
    .optional(),
  unit: z.string().max(20).optional(),
  x: z.number().int().min(0).max(11),
  y: z.number().int().min(0).max(1000),
  w: z.number().int().min(1).max(12),
  h: z.number().int().min(1).max(40),
});

const variable = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,39}$/, 'variable names use letters, digits and _'),
  label: z.string().max(100).optional(),
  type: z.enum(['service', 'namespace', 'custom']),
  options: z.array(z.string().max(200)).max(200).optional(),
  default: z.string().max(200).optional(),
});

/** The shape of a dashboard's spec. */
export const dashboardSpec = z.object({
  time: z.object({ since: z.string().max(20).optional(), from: z.string().max(40).optional(), to: z.string().max(40).optional() }).optional(),
  refresh: z.string().max(10).nullable().optional(),
  variables: z.array(variable).max(10).optional(),
  panels: z.array(panel).max(100),
});

const dashboardBody = z.object({ title: name, description: z.string().max(2000).optional(), spec: dashboardSpec });
const savedSearchBody = z.object({ name, query: query.min(1), range: z.string().max(100).nullable().optional() });

/** A dashboard spec as the API accepts it: the contract's shape, which the schema must produce (checked below). */
export type { DashboardSpec };
// A schema that drifts from the contract the UI reads is a compile error here.
const specMatchesContract: z.ZodType<DashboardSpec> = dashboardSpec;
void specMatchesContract;

function badRequest(reply: FastifyReply, err: z.ZodError): FastifyReply {
  const issue = err.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  return reply.code(400).send({ error: `${where}: ${issue?.message ?? 'invalid'}` });
}

function owner(req: FastifyRequest): string {
  const p = req.principal;
  return p ? `${p.kind}:${p.name}` : 'anonymous';
}

/** Built-in dashboards that fit any installation (the demo adds its own through this API). */
export function builtinDashboards(): { key: string; title: string; description: string; spec: DashboardSpec }[] {
  return [
    {
      key: 'builtin-hosts',
      title: 'Hosts and processes',
      description: 'CPU, memory and disk of the hosts and processes that report metrics.',
      spec: {
        time: { since: '1h' },
        refresh: '30s',
        panels: [
          { id: 'cpu', title: 'Process CPU (1 = one core)', type: 'timeseries', source: 'metric', metric: { name: 'process.cpu.utilization', agg: 'avg', group_by: 'service.name' }, unit: 'percent', x: 0, y: 0, w: 6, h: 8 },
          { id: 'mem', title: 'Process memory (RSS)', type: 'timeseries', source: 'metric', metric: { name: 'process.memory.usage', agg: 'avg', group_by: 'service.name' }, unit: 'bytes', x: 6, y: 0, w: 6, h: 8 },
          { id: 'hcpu', title: 'Host CPU', type: 'timeseries', source: 'metric', metric: { name: 'system.cpu.utilization', agg: 'avg', group_by: 'host.name' }, unit: 'percent', x: 0, y: 8, w: 6, h: 8 },
          { id: 'hmem', title: 'Host memory', type: 'timeseries', source: 'metric', metric: { name: 'system.memory.utilization', agg: 'avg', group_by: 'host.name' }, unit: 'percent', x: 6, y: 8, w: 6, h: 8 },
          { id: 'disk', title: 'Disk used', type: 'timeseries', source: 'metric', metric: { name: 'system.filesystem.utilization', agg: 'max', group_by: 'service.name' }, unit: 'percent', x: 0, y: 16, w: 6, h: 8 },
          { id: 'heap', title: 'Node.js heap used', type: 'timeseries', source: 'metric', metric: { name: 'process.runtime.nodejs.memory.heap.used', agg: 'avg', group_by: 'service.name' }, unit: 'bytes', x: 6, y: 16, w: 6, h: 8 },
        ],
      },
    },
  ];
}

/** Registers the dashboard and saved-search routes; built-ins are created when the server becomes ready. */
export function registerDashboardRoutes(app: FastifyInstance, ctx: { state: StateDb }): DashboardStore {
  const store = new DashboardStore(ctx.state);
  app.addHook('onReady', async () => {
    await store.seedBuiltins(builtinDashboards());
  });

  app.get('/api/v1/dashboards', { config: { access: 'read' } }, async () => ({ dashboards: await store.list() }));
  app.get('/api/v1/dashboards/:id', { config: { access: 'read' } }, async (req, reply) => {
    const d = await store.get(String((req.params as { id: string }).id));
    return d ?? reply.code(404).send({ error: 'no such dashboard (it may have been deleted)' });
  });
  app.post('/api/v1/dashboards', { config: { access: 'write' } }, async (req, reply) => {
    const parsed = dashboardBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const d = await store.create({ title: parsed.data.title, description: parsed.data.description ?? '', spec: parsed.data.spec }, owner(req));
    return reply.code(201).send(d);
  });
  app.put('/api/v1/dashboards/:id', { config: { access: 'write' } }, async (req, reply) => {
    const parsed = dashboardBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const d = await store.update(String((req.params as { id: string }).id), { title: parsed.data.title, description: parsed.data.description ?? '', spec: parsed.data.spec });
    return d ?? reply.code(404).send({ error: 'no such dashboard (it may have been deleted)' });
  });
  app.delete('/api/v1/dashboards/:id', { config: { access: 'write' } }, async (req, reply) => {
    const ok = await store.delete(String((req.params as { id: string }).id));
    return ok ? reply.code(204).send() : reply.code(404).send({ error: 'no such dashboard' });
  });

  app.get('/api/v1/saved-searches', { config: { access: 'read' } }, async (req) => ({ searches: await store.listSearches(owner(req)) }));
  app.post('/api/v1/saved-searches', { config: { access: 'read' } }, async (req, reply) => {
    const parsed = savedSearchBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const s = await store.saveSearch(owner(req), { name: parsed.data.name, query: parsed.data.query, range: parsed.data.range ?? null });
    return reply.code(201).send(s);
  });
  app.delete('/api/v1/saved-searches/:id', { config: { access: 'read' } }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 1) return reply.code(400).send({ error: 'id: expected a positive integer' });
    return (await store.deleteSearch(owner(req), id)) ? reply.code(204).send() : reply.code(404).send({ error: 'no such saved search' });
  });
  return store;
}
