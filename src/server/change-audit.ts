/**
 * Audits configuration changes made through the API: every successful state-changing request to a
 * `write` or `admin` route is recorded (who, which route, which item, from where) — so a feature that
 * adds such a route is audited without remembering to. Routes that write richer entries themselves
 * (users, tokens) set `config.audited` to skip this one.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../store/state/audit.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route records its own audit entries. */
    audited?: boolean;
  }
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Records `config.changed` for successful changes; failures to record are logged, never fail the request. */
export function installChangeAudit(app: FastifyInstance, audit: AuditLog): void {
  // onSend, not onResponse: the entry is written before the client hears the change succeeded.
  app.addHook('onSend', async (req, reply, payload) => {
    const { access, audited } = req.routeOptions.config;
    if (audited || (access !== 'write' && access !== 'admin') || !CHANGES.has(req.method) || reply.statusCode >= 400) return payload;
    const p = req.principal;
    await audit
      .record({
        actor: p ? `${p.kind}:${p.name}` : 'anonymous',
        action: 'config.changed',
        target: `${req.method} ${req.routeOptions.url}`,
        ip: req.ip,
        details: { params: req.params as Record<string, unknown>, status: reply.statusCode },
      })
      .catch((err: unknown) => req.log.error({ err }, 'audit record failed'));
    return payload;
  });
}
