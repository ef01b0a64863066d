/**
 * Silences on the state store: one row per silence, matchers as JSON in Alertmanager's API v2 shape.
 * Written before an API call returns, so a silence created just before a crash is still there after it.
 */
import type { AmMatcher } from '../../api/contract.ts';
import type { StateDb } from './db.ts';

/** A silence as stored (times as epoch ms). */
export interface SilenceRecord {
  id: string;
  matchers: AmMatcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  updatedAt: number;
}

type Row = { id: string; matchers: string; starts_at: number; ends_at: number; created_by: string; comment: string; updated_at: number };

function parseMatchers(text: string): AmMatcher[] {
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v)) return [];
  return v
    .filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null)
    .map((m) => ({ name: String(m.name ?? ''), value: String(m.value ?? ''), isRegex: m.isRegex === true, isEqual: m.isEqual !== false }));
}

// PostgreSQL's bigint may come back as a string; times beyond 32 bits must survive either way.
const fromRow = (r: Row): SilenceRecord => ({
  id: r.id,
  matchers: parseMatchers(r.matchers),
  startsAt: Number(r.starts_at),
  endsAt: Number(r.ends_at),
  createdBy: r.created_by,
  comment: r.comment,
  updatedAt: Number(r.updated_at),
});

/** Reads and writes silences. */
export class SilenceRepo {
  constructor(private readonly db: StateDb) {}

  /** Every stored silence, oldest first. */
  async list(): Promise<SilenceRecord[]> {
    const rows = await this.db.selectFrom('silences').selectAll().orderBy('updated_at').orderBy('id').execute();
    return rows.map(fromRow);
  }

  async get(id: string): Promise<SilenceRecord | undefined> {
    const r = await this.db.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Inserts a silence or replaces the one with the same id. */
  async upsert(s: SilenceRecord): Promise<void> {
    const values = {
      matchers: JSON.stringify(s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true }))),
      starts_at: s.startsAt,
      ends_at: s.endsAt,
      created_by: s.createdBy,
      comment: s.comment,
      updated_at: s.updatedAt,
    };
    await this.db
      .insertInto('silences')
      .values({ id: s.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  /** Deletes silences that ended before `before`; returns how many. */
  async deleteEndedBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('silences').where('ends_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
