/**
 * The notification log and the delivery log on both state-store dialects (SQLite and PostgreSQL):
 * upserts, expiry, newest-first listing with filters, and retention by age and row count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateDb } from '../src/store/state/db.ts';
import { NotificationLogRepo } from '../src/store/state/notification-log.ts';
import { DeliveryRepo, type DeliveryInput } from '../src/store/state/deliveries.ts';
import { STATE_BACKENDS as backends } from './helpers/state-backends.ts';

// Epoch milliseconds beyond 32 bits.
const T = Date.UTC(2026, 11, 3, 12, 0, 0);

describe.each(backends)('notification stores on $name', (backend) => {
  let db: StateDb;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await backend.open());
  });
  afterAll(async () => close?.());

  it('notification log: upsert replaces, list skips expired, gc deletes them', async () => {
    const repo = new NotificationLogRepo(db);
    await repo.upsert({ receiver: 'team/webhook/0', groupKey: 'g1', firing: ['b', 'a'], resolved: [], sentAt: T, expiresAt: T + 1000 });
    await repo.upsert({ receiver: 'team/webhook/0', groupKey: 'g1', firing: ['a'], resolved: ['b'], sentAt: T + 10, expiresAt: T + 2000 });
    await repo.upsert({ receiver: 'team/email/0', groupKey: 'g1', firing: ['a'], resolved: [], sentAt: T, expiresAt: T + 500 });
    expect(await repo.get('team/webhook/0', 'g1')).toEqual({ receiver: 'team/webhook/0', groupKey: 'g1', firing: ['a'], resolved: ['b'], sentAt: T + 10, expiresAt: T + 2000 });
    expect((await repo.list(T + 600)).map((e) => e.receiver)).toEqual(['team/webhook/0']);
    expect(await repo.gc(T + 600)).toBe(1);
    expect(await repo.get('team/email/0', 'g1')).toBeUndefined();
  });

  it('delivery log: newest first, filters, retention by age and by rows', async () => {
    const repo = new DeliveryRepo(db);
    const d = (over: Partial<DeliveryInput>): DeliveryInput => ({
      at: T,
      receiver: 'team',
      integration: 'webhook',
      groupKey: 'g',
      idempotencyKey: 'k',
      status: 'ok',
      attempts: 1,
      firing: 1,
      resolved: 0,
      httpStatus: 200,
      error: null,
      durationMs: 12.5,
      ...over,
    });
    await repo.record(d({ at: T - 40 * 86_400_000 }));
    for (let i = 0; i < 5; i++) await repo.record(d({ at: T + i, receiver: i % 2 ? 'ops' : 'team', status: i === 4 ? 'failed' : 'ok', error: i === 4 ? 'x'.repeat(5000) : null, httpStatus: i === 4 ? null : 200 }));
    const all = await repo.list(100);
    expect(all).toHaveLength(6);
    expect(all[0]).toMatchObject({ at: new Date(T + 4).toISOString(), status: 'failed', httpStatus: null, durationMs: 12.5 });
    expect(all[0]!.error!.length).toBe(2000);
    expect((await repo.list(100, { receiver: 'ops' })).length).toBe(2);
    expect((await repo.list(100, { status: 'failed' })).length).toBe(1);
    expect((await repo.list(2)).length).toBe(2);
    expect((await repo.list(100, { beforeId: all[1]!.id })).map((r) => r.id)).toEqual(all.slice(2).map((r) => r.id));
    expect(await repo.gc(T, { maxAgeMs: 30 * 86_400_000, maxRows: 3 })).toBe(3);
    expect((await repo.list(100)).map((r) => r.at)).toEqual([T + 4, T + 3, T + 2].map((t) => new Date(t).toISOString()));
  });
});
