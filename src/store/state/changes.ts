/**
 * Changes on the state store: one row per deploy, configuration change, feature flag, infrastructure
 * change… (`0006_changes`), whether posted or detected. Times are epoch ms; attributes are JSON.
 */
import type { ChangeAttributes, ChangeEntry, ChangeKind, ChangeSource } from '../../api/contract.ts';
import type { Selectable } from 'kysely';
import type { StateDb, StateTables } from './db.ts';

/** A change as stored: the API's entry with its times as epoch ms. */
export type ChangeRecord = Omit<ChangeEntry, 'at' | 'createdAt'> & { at: number; createdAt: number };

/** A change to record (the store assigns the id). */
export type NewChange = Omit<ChangeRecord, 'id'>;

/** Which changes to list: `[from, to)` in epoch ms, newest first. */
export interface ChangeFilter {
  from: number;
  to: number;
  service?: string;
  kinds?: readonly ChangeKind[];
  sources?: readonly ChangeSource[];
  version?: string;
  limit?: number;
}

type Row = Selectable<StateTables['changes']>;

function parseAttributes(text: string): ChangeAttributes {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: ChangeAttributes = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
    return out;
  } catch {
    return {};
  }
}

// PostgreSQL's bigint may come back as a string; Number() makes both dialects answer alike.
const fromRow = (r: Row): ChangeRecord => ({
  id: Number(r.id),
  at: Number(r.at),
  service: r.service,
  namespace: r.namespace,
  kind: r.kind as ChangeKind,
  version: r.version,
  previousVersion: r.previous_version,
  description: r.description,
  author: r.author,
  commit: r.commit_sha,
  source: r.source as ChangeSource,
  attributes: parseAttributes(r.attributes),
  createdAt: Number(r.created_at),
});

/** Reads and writes changes. */
export class ChangeRepo {
  constructor(private readonly db: StateDb) {}

  /** Records a change; returns its id. */
  async insert(c: NewChange): Promise<number> {
    const r = await this.db
      .insertInto('changes')
      .values({
        at: c.at,
        service: c.service,
        namespace: c.namespace,
        kind: c.kind,
        version: c.version,
        previous_version: c.previousVersion,
        description: c.description,
        author: c.author,
        commit_sha: c.commit,
        source: c.source,
        attributes: JSON.stringify(c.attributes),
        created_at: c.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(r.id);
  }

  async get(id: number): Promise<ChangeRecord | undefined> {
    const r = await this.db.selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Changes in the filter's range, newest first (ties: the later recorded first), at most `limit`. */
  async list(f: ChangeFilter): Promise<ChangeRecord[]> {
    let q = this.db.selectFrom('changes').selectAll().where('at', '>=', f.from).where('at', '<', f.to);
    if (f.service !== undefined) q = q.where('service', '=', f.service);
    if (f.kinds?.length) q = q.where('kind', 'in', [...f.kinds]);
    if (f.sources?.length) q = q.where('source', 'in', [...f.sources]);
    if (f.version !== undefined) q = q.where('version', '=', f.version);
    const rows = await q
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit ?? 1000)
      .execute();
    return rows.map(fromRow);
  }

  /** Deletes the changes the filter matches (used to drop detected deploys a posted one makes redundant); returns how many. */
  async deleteMatching(f: Omit<ChangeFilter, 'limit'>): Promise<number> {
    let q = this.db.deleteFrom('changes').where('at', '>=', f.from).where('at', '<', f.to);
    if (f.service !== undefined) q = q.where('service', '=', f.service);
    if (f.kinds?.length) q = q.where('kind', 'in', [...f.kinds]);
    if (f.sources?.length) q = q.where('source', 'in', [...f.sources]);
    if (f.version !== undefined) q = q.where('version', '=', f.version);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * The version each service was last deployed or rolled back to (the newest such change with a
   * version), so that change detection remembers across restarts what it had already announced.
   */
  async latestVersions(): Promise<Map<string, string>> {
    const kinds = ['deploy', 'rollback'];
    const newest = this.db
      .selectFrom('changes')
      .select((eb) => ['service', eb.fn.max('at').as('last_at')])
      .where('version', 'is not', null)
      .where('kind', 'in', kinds)
      .groupBy('service')
      .as('newest');
    const rows = await this.db
      .selectFrom('changes as c')
      .innerJoin(newest, (j) => j.onRef('newest.service', '=', 'c.service').onRef('newest.last_at', '=', 'c.at'))
      .select(['c.service', 'c.version', 'c.id'])
      .where('c.version', 'is not', null)
      .where('c.kind', 'in', kinds)
      .orderBy('c.id')
      .execute();
    // Two changes at the same millisecond: the later recorded one wins (rows come in id order).
    const out = new Map<string, string>();
    for (const r of rows) if (r.version !== null) out.set(r.service, r.version);
    return out;
  }
}
