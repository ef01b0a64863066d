/**
 * "Test now" for a definition that is not saved (the UI's monitor form): `POST /api/v1/monitors/test`
 * runs it once through the same checker and outbound guard as scheduled checks and answers the result.
 * Nothing is stored or scheduled; the run is audited, since it is an outbound request made on a user's
 * behalf.
 */
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../config/config.ts';
import { runCheck } from '../../monitors/checkers.ts';
import { down, errorMessage, withTimeout, type CheckResult } from '../../monitors/result.ts';
import { describeIssues, monitorSpecSchema } from '../../monitors/spec.ts';
import type { OutboundPolicy } from '../../net/outbound.ts';
import type { AuditLog } from '../../store/state/audit.ts';

/** What the test route needs. */
export interface MonitorTestRouteContext {
  policy: OutboundPolicy;
  audit: AuditLog;
  /** Test runs at once, all callers together; more are refused with 429 (default 4). */
  maxConcurrent?: number;
}

// A check's own timeout covers its network calls; this margin catches a checker that overruns it.
const HARD_MARGIN_MS = 2000;

/** Registers `POST /api/v1/monitors/test` (write access, like creating a monitor). */
export function registerMonitorTestRoutes(app: FastifyInstance, ctx: MonitorTestRouteContext): void {
  const max = ctx.maxConcurrent ?? 4;
  let running = 0;
  app.post('/api/v1/monitors/test', { config: { access: 'write', audited: true } }, async (req, reply) => {
    const parsed = monitorSpecSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: describeIssues(parsed.error).join('; ') });
    const spec = parsed.data;
    if (spec.type === 'push') return reply.code(400).send({ error: 'type: a push monitor has no check to run; it waits for heartbeats' });
    // Bounded: each test holds sockets for up to its timeout, and the form makes pressing again easy.
    if (running >= max) return reply.code(429).header('retry-after', '5').send({ error: 'too many monitor tests are running: try again in a few seconds' });
    running++;
    let result: CheckResult;
    const started = Date.now();
    try {
      const timeoutMs = parseDuration(spec.timeout);
      result = await withTimeout(timeoutMs + HARD_MARGIN_MS, 'check', () => runCheck(spec, { policy: ctx.policy, timeoutMs, now: () => new Date() }));
    } catch (err) {
      result = down(Date.now() - started, errorMessage(err));
    } finally {
      running--;
    }
    const p = req.principal;
    await ctx.audit.record({ actor: p ? `${p.kind}:${p.name}` : 'anonymous', action: 'monitor.tested', target: `monitor:${spec.id}`, ip: req.ip, details: { type: spec.type, status: result.status } });
    return { result };
  });
}
