/**
 * The audit log: who did what, when and from where, for security-relevant and configuration changes.
 * Entries are only ever added; admins read them through the API.
 */
import type { AuditEntry } from '../../api/contract.ts';
import type { StateDb } from './db.ts';

/** One audit entry, as the API answers it. */
export type { AuditEntry };

/** What to record. */
export interface AuditEvent {
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  details?: Record<string, unknown>;
}

/** Append-only audit log on the state store. */
export class AuditLog {
  constructor(private readonly db: StateDb) {}

  async record(e: AuditEvent, now = new Date()): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ at: now.toISOString(), actor: e.actor, action: e.action, target: e.target ?? null, ip: e.ip ?? null, details: e.details ? JSON.stringify(e.details) : null })
      .execute();
  }

  /** Newest first, optionally filtered by actor or action prefix. */
  async list(filter: { actor?: string; action?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(Math.min(filter.limit ?? 200, 1000));
    if (filter.actor) q = q.where('actor', '=', filter.actor);
    // A prefix match as a range, so no LIKE wildcards need escaping.
    if (filter.action) q = q.where('action', '>=', filter.action).where('action', '<', `${filter.action}\uffff`);
    const rows = await q.execute();
    return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, ip: r.ip, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null }));
  }
}
