/**
 * Remediation actions on the state store (`0008_diagnosis_remediation`): one templated HTTP call each,
 * unique by name. Headers are kept as given — secret values arrive already sealed
 * (src/remediation/actions.ts seals and masks them); inputs, services and headers are JSON.
 */
import type { Selectable } from 'kysely';
import type { RemediationAction } from '../../api/contract.ts';
import type { StateDb, StateTables } from './db.ts';

/** An action as stored: the API's with epoch-ms time and its time-out in ms. Secret header values are sealed. */
export type ActionRecord = Omit<RemediationAction, 'updatedAt' | 'timeoutSeconds'> & { updatedAt: number; timeoutMs: number };

/** An action to write (the store assigns the id). */
export type ActionWrite = Omit<ActionRecord, 'id'>;

type Row = Selectable<StateTables['remediation_actions']>;

const METHODS: readonly RemediationAction['method'][] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function json<T>(text: string, fallback: T, ok: (v: unknown) => boolean): T {
  try {
    const v: unknown = JSON.parse(text);
    return ok(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

const isStringMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

const fromRow = (r: Row): ActionRecord => ({
  id: Number(r.id),
  name: r.name,
  description: r.description,
  method: (METHODS as readonly string[]).includes(r.method) ? (r.method as RemediationAction['method']) : 'POST',
  url: r.url,
  headers: json<Record<string, string>>(r.headers, {}, isStringMap),
  body: r.body,
  inputs: json<Record<string, string>>(r.inputs, {}, isStringMap),
  services: json<string[]>(r.services, [], isStringList),
  timeoutMs: Number(r.timeout_ms),
  updatedAt: Number(r.updated_at),
  updatedBy: r.updated_by,
});

const toRow = (a: ActionWrite) => ({
  name: a.name,
  description: a.description,
  method: a.method,
  url: a.url,
  headers: JSON.stringify(a.headers),
  body: a.body,
  inputs: JSON.stringify(a.inputs),
  services: JSON.stringify(a.services),
  timeout_ms: a.timeoutMs,
  updated_at: a.updatedAt,
  updated_by: a.updatedBy,
});

/** Reads and writes remediation actions. */
export class ActionRepo {
  constructor(private readonly db: StateDb) {}

  /** Stores an action; returns its id. A taken name fails on the unique index (check {@link getByName} first). */
  async insert(a: ActionWrite): Promise<number> {
    const row = await this.db.insertInto('remediation_actions').values(toRow(a)).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Replaces an action; false when there is none with that id. */
  async update(id: number, a: ActionWrite): Promise<boolean> {
    const res = await this.db.updateTable('remediation_actions').set(toRow(a)).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Deletes an action; false when there was none. */
  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('remediation_actions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async get(id: number): Promise<ActionRecord | undefined> {
    const r = await this.db.selectFrom('remediation_actions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  async getByName(name: string): Promise<ActionRecord | undefined> {
    const r = await this.db.selectFrom('remediation_actions').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Every action by name. */
  async list(): Promise<ActionRecord[]> {
    const rows = await this.db.selectFrom('remediation_actions').selectAll().orderBy('name').execute();
    return rows.map(fromRow);
  }

  /** The actions with these names (unknown names are skipped), by name. */
  async byNames(names: readonly string[]): Promise<ActionRecord[]> {
    if (names.length === 0) return [];
    const rows = await this.db.selectFrom('remediation_actions').selectAll().where('name', 'in', [...new Set(names)]).orderBy('name').execute();
    return rows.map(fromRow);
  }
}
