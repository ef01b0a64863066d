/**
 * "Test now" for a definition that is not saved (the UI's monitor form): `POST /api/v1/monitors/test`
 * runs it once through the same checker and outbound guard as scheduled checks and answers the result.
 * When editing, the form sends saved secrets back as the mask: they are restored from the saved monitor
 * of the same id under the same rules as a save (src/monitors/secrets.ts), so a test can neither send a
 * kept secret to a new destination nor run with the mask as a password. Nothing is stored or
 * scheduled; the run is audited, since it is an outbound request made on a user's behalf.
 */
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../config/config.ts';
import { runCheck } from '../../monitors/checkers.ts';
import { down, errorMessage, withTimeout, type CheckResult } from '../../monitors/result.ts';
import { applySavedSecrets, SecretFieldError } from '../../monitors/secrets.ts';
import { describeIssues, monitorSpecSchema, type MonitorSpec } from '../../monitors/spec.ts';
import type { MonitorStore } from '../../store/state/monitors.ts';
import type { OutboundPolicy } from '../../net/outbound.ts';
import type { AuditLog } from '../../store/state/audit.ts';

/** What the test route needs. */
export interface MonitorTestRouteContext {
  policy: OutboundPolicy;
  audit: AuditLog;
  /** Saved monitors, whose secrets a test of an edit keeps. */
  monitors: MonitorStore;
  /** Test runs at once, all callers together; more are refused with 429 (default 4). */
  maxConcurrent?: number;
}

// A check's own timeout covers its network calls; this margin catches a checker that overruns it.
const HARD_MARGIN_MS = 2000;

class InvalidSpec extends Error {}

const parse = (body: unknown): MonitorSpec => {
  const r = monitorSpecSchema.safeParse(body);
  if (!r.success) throw new InvalidSpec(describeIssues(r.error).join('; '));
  return r.data;
};

/** Registers `POST /api/v1/monitors/test` (write access, like creating a monitor). */
export function registerMonitorTestRoutes(app: FastifyInstance, ctx: MonitorTestRouteContext): void {
  const max = ctx.maxConcurrent ?? 4;
  let running = 0;
  app.post('/api/v1/monitors/test', { config: { access: 'write', audited: true } }, async (req, reply) => {
    const id = req.body && typeof req.body === 'object' && 'id' in req.body && typeof req.body.id === 'string' ? req.body.id : undefined;
    const saved = id ? await ctx.monitors.get(id) : undefined;
    let spec: MonitorSpec;
    try {
      spec = applySavedSecrets(req.body, saved?.spec, parse);
    } catch (err) {
      if (err instanceof InvalidSpec || err instanceof SecretFieldError) return reply.code(400).send({ error: err.message });
      throw err;
    }
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
