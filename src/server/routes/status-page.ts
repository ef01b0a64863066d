/**
 * Status pages: admins choose components (`/api/v1/status-pages`); anyone reads the page as HTML
 * (`/status/:slug`, strict CSP, no script) or JSON (`/api/v1/public/status/:slug`). The public view
 * holds only the chosen components under their public names.
 */
import type { StatusPageDef } from '../../api/contract.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { MonitorScheduler } from '../../monitors/scheduler.ts';
import type { MonitorState } from '../../monitors/state.ts';
import { buildStatusPage, noIncidents, renderStatusPageHtml, STATUS_PAGE_CSP, STATUS_PAGE_CSS, type IncidentSource, type PublicStatusPage } from '../../monitors/status-page.ts';
import { describeIssues } from '../../monitors/spec.ts';
import type { MonitorStore } from '../../store/state/monitors.ts';
import { DAY_MS } from '../../monitors/uptime.ts';

/** What the status page routes need. */
export interface StatusPageRouteContext {
  store: MonitorStore;
  scheduler: MonitorScheduler;
  /** Incidents shown on pages; none until the incidents module plugs in. */
  incidents?: IncidentSource;
  now?: () => number;
}

const pageSchema = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected 1-64 lower-case letters, digits or "-"'),
    title: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    components: z.array(z.object({ monitorId: z.string().min(1), name: z.string().min(1).max(200) }).strict()).max(200),
  })
  .strict();

/** Registers the status page routes. */
export function registerStatusPageRoutes(app: FastifyInstance, ctx: StatusPageRouteContext): void {
  const now = ctx.now ?? Date.now;
  const incidents = ctx.incidents ?? noIncidents;

  const save = async (body: unknown, slug: string | undefined, reply: FastifyReply, created: boolean) => {
    const input = slug && body && typeof body === 'object' && !('slug' in body) ? { ...body, slug } : body;
    const r = pageSchema.safeParse(input);
    if (!r.success) return reply.code(400).send({ error: describeIssues(r.error).join('; ') });
    if (slug && r.data.slug !== slug) return reply.code(400).send({ error: `slug: the body's slug differs from the URL's "${slug}"` });
    const known = new Set((await ctx.store.list()).map((m) => m.spec.id));
    const unknown = r.data.components.filter((c) => !known.has(c.monitorId)).map((c) => c.monitorId);
    if (unknown.length) return reply.code(400).send({ error: `components: no monitor ${unknown.map((u) => `"${u}"`).join(', ')}` });
    if (created && (await ctx.store.statusPage(r.data.slug))) return reply.code(409).send({ error: `a status page "${r.data.slug}" already exists` });
    await ctx.store.putStatusPage(r.data);
    return reply.code(created ? 201 : 200).send(r.data);
  };

  app.get('/api/v1/status-pages', { config: { access: 'admin' } }, async (): Promise<{ statusPages: StatusPageDef[] }> => ({ statusPages: await ctx.store.statusPages() }));
  app.post('/api/v1/status-pages', { config: { access: 'admin' } }, async (req, reply) => save(req.body, undefined, reply, true));
  app.put('/api/v1/status-pages/:slug', { config: { access: 'admin' } }, async (req, reply) => save(req.body, (req.params as { slug: string }).slug, reply, false));
  app.delete('/api/v1/status-pages/:slug', { config: { access: 'admin' } }, async (req, reply) => {
    const ok = await ctx.store.deleteStatusPage((req.params as { slug: string }).slug);
    return ok ? reply.code(204).send() : reply.code(404).send({ error: 'no such status page' });
  });

  const publicPage = async (slug: string): Promise<PublicStatusPage | undefined> => {
    const page = await ctx.store.statusPage(slug);
    if (!page) return undefined;
    const t = now();
    const ids = page.components.map((c) => c.monitorId);
    const states = new Map<string, MonitorState>();
    for (const id of ids) {
      const s = ctx.scheduler.status(id);
      if (s) states.set(id, s.state);
    }
    const daily = await ctx.store.rollups('day', t - 91 * DAY_MS, t + DAY_MS, ids);
    return buildStatusPage(page, states, daily, await incidents(ids, t), t);
  };

  app.get('/api/v1/public/status/:slug', { config: { access: 'public' } }, async (req, reply) => {
    const p = await publicPage((req.params as { slug: string }).slug);
    if (!p) return reply.code(404).send({ error: 'no such status page' });
    return reply.header('cache-control', 'public, max-age=30').send(p);
  });

  app.get('/status/assets/status.css', { config: { access: 'public' } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STATUS_PAGE_CSS),
  );

  app.get('/status/:slug', { config: { access: 'public' } }, async (req, reply) => {
    const p = await publicPage((req.params as { slug: string }).slug);
    reply.header('content-security-policy', STATUS_PAGE_CSP).header('x-content-type-options', 'nosniff');
    if (!p) return reply.code(404).type('text/html; charset=utf-8').send('<!doctype html><title>Not found</title><p>No such status page.</p>');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=30').send(renderStatusPageHtml(p, '/status/assets/status.css'));
  });
}
