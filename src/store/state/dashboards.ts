/**
 * Dashboards and saved searches on the state store. A dashboard is a title plus a JSON spec (panels,
 * layout, variables, time range) validated by the API before it gets here; built-in dashboards carry a
 * `builtin_key` and are created once, on first run — deleting one is remembered (soft delete), so it
 * does not come back on the next start.
 */
import { randomBytes } from 'node:crypto';
import type { DashboardSummary, SavedSearch } from '../../api/contract.ts';
import type { StateDb } from './db.ts';

/** A dashboard as listed, and a saved search: the API contract's shapes (src/api/contract.ts). */
export type { DashboardSummary, SavedSearch };

/** A dashboard with its spec (JSON object, validated by the API against the contract's DashboardSpec). */
export interface Dashboard extends DashboardSummary {
  spec: unknown;
  createdAt: string;
}

/** Dashboard and saved-search operations. */
export class DashboardStore {
  constructor(private readonly db: StateDb) {}

  /** Creates each built-in dashboard that was never created before (deleted ones stay deleted). */
  async seedBuiltins(builtins: { key: string; title: string; description: string; spec: unknown }[], now = new Date()): Promise<number> {
    let created = 0;
    for (const b of builtins) {
      const existing = await this.db.selectFrom('dashboards').select('id').where('builtin_key', '=', b.key).executeTakeFirst();
      if (existing) continue;
      await this.db
        .insertInto('dashboards')
        .values({ uid: b.key, title: b.title, description: b.description, spec: JSON.stringify(b.spec), owner: 'vigil', builtin_key: b.key, created_at: now.toISOString(), updated_at: now.toISOString(), deleted_at: null })
        .execute();
      created++;
    }
    return created;
  }

  /** Lists dashboards, built-ins first, then by title. */
  async list(): Promise<DashboardSummary[]> {
    const rows = await this.db
      .selectFrom('dashboards')
      .selectAll()
      .where('deleted_at', 'is', null)
      // NULLS LAST spelled out: PostgreSQL puts nulls first in a descending order, SQLite last.
      .orderBy('builtin_key', (ob) => ob.desc().nullsLast())
      .orderBy('title')
      .execute();
    return rows.map((r) => ({ id: r.uid, title: r.title, description: r.description, builtin: r.builtin_key !== null, owner: r.owner, updatedAt: r.updated_at }));
  }

  /** One dashboard, or undefined. */
  async get(uid: string): Promise<Dashboard | undefined> {
    const r = await this.db.selectFrom('dashboards').selectAll().where('uid', '=', uid).where('deleted_at', 'is', null).executeTakeFirst();
    if (!r) return undefined;
    return { id: r.uid, title: r.title, description: r.description, builtin: r.builtin_key !== null, owner: r.owner, updatedAt: r.updated_at, createdAt: r.created_at, spec: JSON.parse(r.spec) as unknown };
  }

  /** Creates a dashboard and returns it. */
  async create(d: { title: string; description: string; spec: unknown }, owner: string, now = new Date()): Promise<Dashboard> {
    const uid = randomBytes(6).toString('base64url');
    await this.db
      .insertInto('dashboards')
      .values({ uid, title: d.title, description: d.description, spec: JSON.stringify(d.spec), owner, builtin_key: null, created_at: now.toISOString(), updated_at: now.toISOString(), deleted_at: null })
      .execute();
    return (await this.get(uid))!;
  }

  /** Replaces a dashboard's title, description and spec; undefined when it does not exist. */
  async update(uid: string, d: { title: string; description: string; spec: unknown }, now = new Date()): Promise<Dashboard | undefined> {
    const res = await this.db
      .updateTable('dashboards')
      .set({ title: d.title, description: d.description, spec: JSON.stringify(d.spec), updated_at: now.toISOString() })
      .where('uid', '=', uid)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n ? this.get(uid) : undefined;
  }

  /** Deletes a dashboard; false when it did not exist. */
  async delete(uid: string, now = new Date()): Promise<boolean> {
    const res = await this.db.updateTable('dashboards').set({ deleted_at: now.toISOString() }).where('uid', '=', uid).where('deleted_at', 'is', null).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** A user's saved searches, by name. */
  async listSearches(owner: string): Promise<SavedSearch[]> {
    const rows = await this.db.selectFrom('saved_searches').selectAll().where('owner', '=', owner).orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, query: r.query, range: r.range, createdAt: r.created_at }));
  }

  /** Saves (or replaces, by name) a search of a user. */
  async saveSearch(owner: string, s: { name: string; query: string; range: string | null }, now = new Date()): Promise<SavedSearch> {
    await this.db
      .insertInto('saved_searches')
      .values({ owner, name: s.name, query: s.query, range: s.range, created_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['owner', 'name']).doUpdateSet({ query: s.query, range: s.range, created_at: now.toISOString() }))
      .execute();
    const r = await this.db.selectFrom('saved_searches').selectAll().where('owner', '=', owner).where('name', '=', s.name).executeTakeFirstOrThrow();
    return { id: r.id, name: r.name, query: r.query, range: r.range, createdAt: r.created_at };
  }

  /** Deletes a user's saved search; false when the user has no such search. */
  async deleteSearch(owner: string, id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('saved_searches').where('owner', '=', owner).where('id', '=', id).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }
}
