/**
 * Runbooks on the state store (`0008_diagnosis_remediation`): Markdown for responders, scoped to a
 * service, an alert rule (by alertname) or general, with the names of the actions they offer (JSON).
 * Times are epoch ms.
 */
import type { Selectable } from 'kysely';
import type { Runbook, RunbookScope } from '../../api/contract.ts';
import type { StateDb, StateTables } from './db.ts';

/** A runbook as stored: the API's with its time as epoch ms. */
export type RunbookRecord = Omit<Runbook, 'updatedAt'> & { updatedAt: number };

/** A runbook to write (the store assigns the id). */
export type RunbookWrite = Omit<RunbookRecord, 'id'>;

/** Which runbooks apply: any of these services or alertnames, and (when asked) the general ones. */
export interface RunbookMatch {
  services: readonly string[];
  rules: readonly string[];
  general: boolean;
}

type Row = Selectable<StateTables['runbooks']>;

const SCOPE_KINDS: readonly RunbookScope['kind'][] = ['service', 'rule', 'general'];

function names(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

const fromRow = (r: Row): RunbookRecord => ({
  id: Number(r.id),
  title: r.title,
  scope: { kind: (SCOPE_KINDS as readonly string[]).includes(r.scope_kind) ? (r.scope_kind as RunbookScope['kind']) : 'general', value: r.scope_value },
  body: r.body,
  actions: names(r.actions),
  updatedAt: Number(r.updated_at),
  updatedBy: r.updated_by,
});

const toRow = (r: RunbookWrite) => ({
  title: r.title,
  scope_kind: r.scope.kind,
  scope_value: r.scope.value,
  body: r.body,
  actions: JSON.stringify(r.actions),
  updated_at: r.updatedAt,
  updated_by: r.updatedBy,
});

/** Reads and writes runbooks. */
export class RunbookRepo {
  constructor(private readonly db: StateDb) {}

  /** Stores a runbook; returns its id. */
  async insert(r: RunbookWrite): Promise<number> {
    const row = await this.db.insertInto('runbooks').values(toRow(r)).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Replaces a runbook; false when there is none with that id. */
  async update(id: number, r: RunbookWrite): Promise<boolean> {
    const res = await this.db.updateTable('runbooks').set(toRow(r)).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Deletes a runbook; false when there was none. */
  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('runbooks').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async get(id: number): Promise<RunbookRecord | undefined> {
    const r = await this.db.selectFrom('runbooks').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Every runbook, or those of one service and/or alert rule; by scope, then title. */
  async list(filter: { service?: string; rule?: string } = {}): Promise<RunbookRecord[]> {
    let q = this.db.selectFrom('runbooks').selectAll();
    const { service, rule } = filter;
    if (service !== undefined || rule !== undefined) {
      q = q.where((eb) =>
        eb.or([
          ...(service !== undefined ? [eb.and([eb('scope_kind', '=', 'service'), eb('scope_value', '=', service)])] : []),
          ...(rule !== undefined ? [eb.and([eb('scope_kind', '=', 'rule'), eb('scope_value', '=', rule)])] : []),
        ]),
      );
    }
    const rows = await q.orderBy('scope_kind').orderBy('scope_value').orderBy('title').orderBy('id').execute();
    return rows.map(fromRow);
  }

  /** The runbooks of any of the services or alertnames, plus the general ones when asked: services first, then rules, then general. */
  async matching(m: RunbookMatch): Promise<RunbookRecord[]> {
    const services = [...new Set(m.services)];
    const rules = [...new Set(m.rules)];
    if (services.length === 0 && rules.length === 0 && !m.general) return [];
    const rows = await this.db
      .selectFrom('runbooks')
      .selectAll()
      .where((eb) =>
        eb.or([
          ...(services.length ? [eb.and([eb('scope_kind', '=', 'service'), eb('scope_value', 'in', services)])] : []),
          ...(rules.length ? [eb.and([eb('scope_kind', '=', 'rule'), eb('scope_value', 'in', rules)])] : []),
          ...(m.general ? [eb('scope_kind', '=', 'general')] : []),
        ]),
      )
      .orderBy('title')
      .orderBy('id')
      .execute();
    const order: Record<string, number> = { service: 0, rule: 1, general: 2 };
    return rows.map(fromRow).sort((a, b) => order[a.scope.kind]! - order[b.scope.kind]!);
  }
}
