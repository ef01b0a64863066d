/**
 * Monitors in the state store: definitions (from files and the API), current state, state-change
 * history, hourly and daily rollups, and status pages. Dialect-neutral Kysely with parameters; times
 * of checks, state changes and rollups are epoch milliseconds.
 */
import { randomBytes } from 'node:crypto';
// Types only: the monitors module describes what is stored; nothing of it runs in the store.
import type { MonitorSpec } from '../../monitors/spec.ts';
import type { MonitorState } from '../../monitors/state.ts';
import type { Rollup, StateChange } from '../../monitors/uptime.ts';
import type { StateDb } from './db.ts';

/** A fresh push token for a heartbeat monitor (URL-safe, 192 bits). */
export function newPushToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Where a monitor is defined; file monitors are read-only through the API. */
export type MonitorSource = 'file' | 'api';

/** A stored monitor. */
export interface StoredMonitor {
  spec: MonitorSpec;
  source: MonitorSource;
  file: string | null;
  pushToken: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A monitor's current state as persisted. */
export interface MonitorStatusRow {
  monitorId: string;
  state: MonitorState;
  failures: number;
  since: number;
  lastCheckAt: number | null;
  lastResult: string | null;
  lastPushAt: number | null;
  lastPushStatus: 'up' | 'down' | null;
  lastPushMessage: string | null;
}

/** A status page definition. */
export interface StatusPageDef {
  slug: string;
  title: string;
  description: string;
  /** Monitors shown, with the name the public sees. */
  components: { monitorId: string; name: string }[];
}

/** Seals monitor definitions at rest (passwords, tokens in headers and bodies): the server's SecretBox. */
export interface SpecSealer {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

/** Rollup bucket kinds. */
export type BucketKind = 'hour' | 'day';

/** State-store access for monitors. */
export class MonitorStore {
  constructor(
    private readonly db: StateDb,
    private readonly sealer?: SpecSealer,
  ) {}

  private seal(spec: MonitorSpec): string {
    const json = JSON.stringify(spec);
    return this.sealer ? this.sealer.encrypt(json) : json;
  }

  private toStored(r: { spec: string; source: string; file: string | null; push_token: string | null; created_at: string; updated_at: string }): StoredMonitor {
    // Plain JSON (written without a sealer) starts with "{"; sealed text with its version prefix.
    const json = r.spec.startsWith('{') || !this.sealer ? r.spec : this.sealer.decrypt(r.spec);
    return { spec: JSON.parse(json) as MonitorSpec, source: r.source as MonitorSource, file: r.file, pushToken: r.push_token, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  /** Inserts or replaces a monitor, keeping its push token; returns the stored row. */
  async upsert(spec: MonitorSpec, source: MonitorSource, file: string | null, now = new Date()): Promise<StoredMonitor> {
    const existing = await this.db.selectFrom('monitors').select(['push_token', 'created_at']).where('id', '=', spec.id).executeTakeFirst();
    const pushToken = spec.type === 'push' ? (existing?.push_token ?? newPushToken()) : null;
    const row = {
      id: spec.id,
      name: spec.name,
      system: spec.system,
      type: spec.type,
      source,
      file,
      spec: this.seal(spec),
      push_token: pushToken,
      created_at: existing?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
    };
    await this.db
      .insertInto('monitors')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: row.name, system: row.system, type: row.type, source, file, spec: row.spec, push_token: pushToken, updated_at: row.updated_at }))
      .execute();
    return { spec, source, file, pushToken, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  /** All monitors. */
  async list(): Promise<StoredMonitor[]> {
    const rows = await this.db.selectFrom('monitors').selectAll().orderBy('id').execute();
    return rows.map((r) => this.toStored(r));
  }

  /** One monitor, or undefined. */
  async get(id: string): Promise<StoredMonitor | undefined> {
    const row = await this.db.selectFrom('monitors').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.toStored(row) : undefined;
  }

  /** The monitor id a push token belongs to. */
  async idByPushToken(token: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('monitors').select('id').where('push_token', '=', token).executeTakeFirst();
    return row?.id;
  }

  /**
   * Removes a monitor. `keepHistory` (file monitors that vanish while a file is edited) keeps state
   * changes and rollups, so putting the monitor back resumes its history.
   */
  async remove(id: string, keepHistory: boolean): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('monitors').where('id', '=', id).execute();
      await tx.deleteFrom('monitor_status').where('monitor_id', '=', id).execute();
      if (!keepHistory) {
        await tx.deleteFrom('monitor_state_changes').where('monitor_id', '=', id).execute();
        await tx.deleteFrom('monitor_rollups').where('monitor_id', '=', id).execute();
      }
    });
  }

  /** Current states of all monitors. */
  async statuses(): Promise<Map<string, MonitorStatusRow>> {
    const rows = await this.db.selectFrom('monitor_status').selectAll().execute();
    return new Map(
      rows.map((r) => [
        r.monitor_id,
        {
          monitorId: r.monitor_id,
          state: r.state as MonitorState,
          failures: r.failures,
          since: r.since,
          lastCheckAt: r.last_check_at,
          lastResult: r.last_result,
          lastPushAt: r.last_push_at,
          lastPushStatus: r.last_push_status as 'up' | 'down' | null,
          lastPushMessage: r.last_push_message,
        },
      ]),
    );
  }

  /** Writes current states and rollup increments in one transaction (the scheduler batches them). */
  async flush(statuses: readonly MonitorStatusRow[], increments: readonly (Rollup & { bucket: BucketKind })[]): Promise<void> {
    if (statuses.length === 0 && increments.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const s of statuses) {
        const row = {
          monitor_id: s.monitorId,
          state: s.state,
          failures: s.failures,
          since: s.since,
          last_check_at: s.lastCheckAt,
          last_result: s.lastResult,
          last_push_at: s.lastPushAt,
          last_push_status: s.lastPushStatus,
          last_push_message: s.lastPushMessage,
        };
        const { monitor_id: _id, ...rest } = row;
        await tx.insertInto('monitor_status').values(row).onConflict((oc) => oc.column('monitor_id').doUpdateSet(rest)).execute();
      }
      for (const r of increments) {
        await tx
          .insertInto('monitor_rollups')
          .values({ monitor_id: r.monitorId, bucket: r.bucket, start: r.start, checks: r.checks, up: r.up, down: r.down, degraded: r.degraded, latency_sum: r.latencySum, latency_max: r.latencyMax })
          .onConflict((oc) =>
            // Qualified names and CASE instead of max()/GREATEST(), which differ between SQLite and PostgreSQL.
            oc.columns(['monitor_id', 'bucket', 'start']).doUpdateSet((eb) => ({
              checks: eb('monitor_rollups.checks', '+', eb.ref('excluded.checks')),
              up: eb('monitor_rollups.up', '+', eb.ref('excluded.up')),
              down: eb('monitor_rollups.down', '+', eb.ref('excluded.down')),
              degraded: eb('monitor_rollups.degraded', '+', eb.ref('excluded.degraded')),
              latency_sum: eb('monitor_rollups.latency_sum', '+', eb.ref('excluded.latency_sum')),
              latency_max: eb
                .case()
                .when('excluded.latency_max', '>', eb.ref('monitor_rollups.latency_max'))
                .then(eb.ref('excluded.latency_max'))
                .else(eb.ref('monitor_rollups.latency_max'))
                .end(),
            })),
          )
          .execute();
      }
    });
  }

  /** Records a state change. */
  async addStateChange(monitorId: string, change: StateChange): Promise<void> {
    await this.db.insertInto('monitor_state_changes').values({ monitor_id: monitorId, at: change.at, from_state: change.from, to_state: change.to, error: change.error ?? null }).execute();
  }

  /** State changes in [from, to), oldest first, preceded by the last change before `from`. */
  async stateChanges(monitorId: string, from: number, to: number): Promise<StateChange[]> {
    const before = await this.db
      .selectFrom('monitor_state_changes')
      .selectAll()
      .where('monitor_id', '=', monitorId)
      .where('at', '<', from)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    const within = await this.db
      .selectFrom('monitor_state_changes')
      .selectAll()
      .where('monitor_id', '=', monitorId)
      .where('at', '>=', from)
      .where('at', '<', to)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return [...before, ...within].map((r) => ({ at: r.at, from: r.from_state as MonitorState, to: r.to_state as MonitorState, error: r.error }));
  }

  /** Rollups of some monitors (all when `ids` is undefined) in [from, to). */
  async rollups(bucket: BucketKind, from: number, to: number, ids?: readonly string[]): Promise<Rollup[]> {
    let q = this.db.selectFrom('monitor_rollups').selectAll().where('bucket', '=', bucket).where('start', '>=', from).where('start', '<', to);
    if (ids) {
      if (ids.length === 0) return [];
      q = q.where('monitor_id', 'in', [...ids]);
    }
    const rows = await q.orderBy('start').execute();
    return rows.map((r) => ({ monitorId: r.monitor_id, start: r.start, checks: r.checks, up: r.up, down: r.down, degraded: r.degraded, latencySum: r.latency_sum, latencyMax: r.latency_max }));
  }

  /** Drops hourly rollups older than `hourCutoff` and daily rollups and state changes older than `dayCutoff`. */
  async prune(hourCutoff: number, dayCutoff: number): Promise<void> {
    await this.db.deleteFrom('monitor_rollups').where('bucket', '=', 'hour').where('start', '<', hourCutoff).execute();
    await this.db.deleteFrom('monitor_rollups').where('bucket', '=', 'day').where('start', '<', dayCutoff).execute();
    await this.db.deleteFrom('monitor_state_changes').where('at', '<', dayCutoff).execute();
  }

  /** Creates or replaces a status page. */
  async putStatusPage(page: StatusPageDef, now = new Date()): Promise<void> {
    const row = { slug: page.slug, title: page.title, description: page.description, components: JSON.stringify(page.components), created_at: now.toISOString(), updated_at: now.toISOString() };
    await this.db
      .insertInto('status_pages')
      .values(row)
      .onConflict((oc) => oc.column('slug').doUpdateSet({ title: row.title, description: row.description, components: row.components, updated_at: row.updated_at }))
      .execute();
  }

  /** A status page, or undefined. */
  async statusPage(slug: string): Promise<StatusPageDef | undefined> {
    const r = await this.db.selectFrom('status_pages').selectAll().where('slug', '=', slug).executeTakeFirst();
    return r ? { slug: r.slug, title: r.title, description: r.description, components: JSON.parse(r.components) as StatusPageDef['components'] } : undefined;
  }

  /** All status pages. */
  async statusPages(): Promise<StatusPageDef[]> {
    const rows = await this.db.selectFrom('status_pages').selectAll().orderBy('slug').execute();
    return rows.map((r) => ({ slug: r.slug, title: r.title, description: r.description, components: JSON.parse(r.components) as StatusPageDef['components'] }));
  }

  /** Deletes a status page; false when there was none. */
  async deleteStatusPage(slug: string): Promise<boolean> {
    const r = await this.db.deleteFrom('status_pages').where('slug', '=', slug).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
