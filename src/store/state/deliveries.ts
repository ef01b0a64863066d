/**
 * The delivery log: one row per notification an integration tried to deliver (all its attempts), for
 * `GET /api/v1/alerting/deliveries` and the UI. Kept 30 days and at most 100,000 rows.
 */
import type { DeliveryRecord } from '../../api/contract.ts';
import type { StateDb } from './db.ts';

/** A delivery as recorded (its id and time as epoch ms). */
export type DeliveryInput = Omit<DeliveryRecord, 'id' | 'at'> & { at: number };

/** Filters of {@link DeliveryRepo.list}. */
export interface DeliveryFilter {
  receiver?: string;
  integration?: string;
  status?: 'ok' | 'failed';
  groupKey?: string;
  /** Only deliveries at or after this time (epoch ms). */
  since?: number;
  /** Only deliveries before this id (paging, newest first). */
  beforeId?: number;
}

/** Retention of the delivery log. */
export interface DeliveryRetention {
  maxAgeMs: number;
  maxRows: number;
}

/** 30 days, 100,000 rows. */
export const DEFAULT_DELIVERY_RETENTION: DeliveryRetention = { maxAgeMs: 30 * 86_400_000, maxRows: 100_000 };

/** Appends to and lists the delivery log. */
export class DeliveryRepo {
  constructor(private readonly db: StateDb) {}

  /** Appends one delivery; returns its id. */
  async record(d: DeliveryInput): Promise<number> {
    const r = await this.db
      .insertInto('deliveries')
      .values({
        at: d.at,
        receiver: d.receiver,
        integration: d.integration,
        group_key: d.groupKey,
        idempotency_key: d.idempotencyKey,
        status: d.status,
        attempts: d.attempts,
        firing: d.firing,
        resolved: d.resolved,
        http_status: d.httpStatus,
        // Errors are bounded: a receiver's answer must not fill the state store.
        error: d.error === null ? null : d.error.slice(0, 2000),
        duration_ms: d.durationMs,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  /** Newest first, at most `limit` (capped at 1,000). */
  async list(limit = 100, filter: DeliveryFilter = {}): Promise<DeliveryRecord[]> {
    let q = this.db.selectFrom('deliveries').selectAll().orderBy('id', 'desc').limit(Math.max(1, Math.min(limit, 1000)));
    if (filter.receiver !== undefined) q = q.where('receiver', '=', filter.receiver);
    if (filter.integration !== undefined) q = q.where('integration', '=', filter.integration);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.groupKey !== undefined) q = q.where('group_key', '=', filter.groupKey);
    if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
    if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id,
      at: new Date(r.at).toISOString(),
      receiver: r.receiver,
      integration: r.integration,
      groupKey: r.group_key,
      idempotencyKey: r.idempotency_key,
      status: r.status === 'ok' ? 'ok' : 'failed',
      attempts: r.attempts,
      firing: r.firing,
      resolved: r.resolved,
      httpStatus: r.http_status,
      error: r.error,
      durationMs: r.duration_ms,
    }));
  }

  /** Deletes deliveries older than the retention and all but the newest `maxRows`; returns how many. */
  async gc(now: number, retention: DeliveryRetention = DEFAULT_DELIVERY_RETENTION): Promise<number> {
    let deleted = Number((await this.db.deleteFrom('deliveries').where('at', '<', now - retention.maxAgeMs).executeTakeFirst()).numDeletedRows);
    // The id of the oldest row to keep: everything below it goes.
    const keep = await this.db.selectFrom('deliveries').select('id').orderBy('id', 'desc').offset(retention.maxRows - 1).limit(1).executeTakeFirst();
    if (keep) deleted += Number((await this.db.deleteFrom('deliveries').where('id', '<', keep.id).executeTakeFirst()).numDeletedRows);
    return deleted;
  }
}
