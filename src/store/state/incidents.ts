/**
 * Incidents on the state store (SQLite and PostgreSQL). The timeline (`incident_events`) is the source
 * of truth; every append folds the whole timeline again (src/incidents/reducer.ts) and writes the
 * result into the `incidents` row in the same transaction, so the row that lists filter on never
 * disagrees with its events. `incident_alerts` records which alert instances an incident linked.
 *
 * Appends are not serialised here: the incident service runs one write at a time (a status change
 * checks the state it read, so two at once could both pass).
 */
import { sql, type Selectable, type Transaction } from 'kysely';
import { reduce, type IncidentEventData, type IncidentView, type TimelineEvent } from '../../incidents/reducer.ts';
import { isIncidentStatus, OPEN_STATUSES, type IncidentStatus } from '../../incidents/state.ts';
import type { StateDb, StateTables } from './db.ts';

/** An event to append (the id is given by the store). */
export interface NewIncidentEvent {
  at: number;
  actor: string;
  data: IncidentEventData;
}

/** An incident as listed: the folded view's columns. */
export interface IncidentRecord {
  id: number;
  title: string;
  severity: IncidentView['severity'];
  status: IncidentStatus;
  commander: string | null;
  assignees: string[];
  services: string[];
  systems: string[];
  description: string;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  correlationKey: string | null;
  source: IncidentView['source'];
  updatedAt: number;
}

/** A link between an incident and an alert instance. */
export interface IncidentAlertLink {
  ruleId: string;
  fingerprint: string;
  labels: Record<string, string>;
  linkedAt: number;
}

/** Filters of {@link IncidentRepo.list}. */
export interface IncidentFilter {
  /** `open` (every open state), `resolved`, `closed`, `all`, or one state. */
  status?: 'open' | 'all' | IncidentStatus;
  service?: string;
  system?: string;
  limit?: number;
}

type Row = Selectable<StateTables['incidents']>;

const strings = (text: string): string[] => {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};

const labelsOf = (text: string): Record<string, string> => {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
};

// PostgreSQL's bigint arrives as a number through db.ts's parser; Number() keeps SQLite and pg alike anyway.
const num = (v: number | null): number | null => (v === null ? null : Number(v));

const fromRow = (r: Row): IncidentRecord => ({
  id: Number(r.id),
  title: r.title,
  severity: r.severity as IncidentRecord['severity'],
  status: isIncidentStatus(r.status) ? r.status : 'triggered',
  commander: r.commander,
  assignees: strings(r.assignees),
  services: strings(r.services),
  systems: strings(r.systems),
  description: r.description,
  openedAt: Number(r.opened_at),
  acknowledgedAt: num(r.acknowledged_at),
  resolvedAt: num(r.resolved_at),
  closedAt: num(r.closed_at),
  correlationKey: r.correlation_key,
  source: r.source === 'alert' ? 'alert' : 'manual',
  updatedAt: Number(r.updated_at),
});

const columnsOf = (v: IncidentView, updatedAt: number) => ({
  title: v.title,
  severity: v.severity,
  status: v.status,
  commander: v.commander,
  assignees: JSON.stringify(v.assignees),
  services: JSON.stringify(v.services),
  systems: JSON.stringify(v.systems),
  description: v.description,
  opened_at: v.openedAt,
  acknowledged_at: v.acknowledgedAt,
  resolved_at: v.resolvedAt,
  closed_at: v.closedAt,
  correlation_key: v.correlationKey,
  source: v.source,
  updated_at: updatedAt,
});

/** Escapes LIKE's wildcards so that a service name matches only itself. */
const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Reads and writes incidents and their timelines. */
export class IncidentRepo {
  constructor(private readonly db: StateDb) {}

  /** Creates an incident from its `opened` event; resolves with its id. */
  async create(e: NewIncidentEvent & { data: Extract<IncidentEventData, { kind: 'opened' }> }): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const view = reduce([{ id: 0, ...e }])!;
      const row = await trx.insertInto('incidents').values(columnsOf(view, e.at)).returning('id').executeTakeFirstOrThrow();
      const id = Number(row.id);
      await trx.insertInto('incident_events').values({ incident_id: id, at: e.at, kind: e.data.kind, actor: e.actor, data: JSON.stringify(e.data) }).execute();
      return id;
    });
  }

  /** Appends events, folds the timeline again and stores the view; undefined when there is no such incident. */
  async append(id: number, events: readonly NewIncidentEvent[]): Promise<IncidentView | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const exists = await trx.selectFrom('incidents').select('id').where('id', '=', id).executeTakeFirst();
      if (!exists) return undefined;
      for (const e of events) {
        await trx.insertInto('incident_events').values({ incident_id: id, at: e.at, kind: e.data.kind, actor: e.actor, data: JSON.stringify(e.data) }).execute();
        if (e.data.kind === 'alert_firing') await this.link(trx, id, e.data.ruleId, e.data.fingerprint, e.data.labels, e.at);
      }
      const view = reduce(await this.timelineIn(trx, id));
      if (!view) return undefined;
      const updatedAt = events.reduce((m, e) => Math.max(m, e.at), 0);
      await trx.updateTable('incidents').set(columnsOf(view, updatedAt)).where('id', '=', id).execute();
      return view;
    });
  }

  private async link(trx: Transaction<StateTables>, id: number, ruleId: string, fingerprint: string, labels: Record<string, string>, at: number): Promise<void> {
    await trx
      .insertInto('incident_alerts')
      .values({ incident_id: id, rule_id: ruleId, fingerprint, labels: JSON.stringify(labels), linked_at: at })
      .onConflict((oc) => oc.columns(['incident_id', 'rule_id', 'fingerprint']).doUpdateSet({ labels: JSON.stringify(labels) }))
      .execute();
  }

  private async timelineIn(db: StateDb | Transaction<StateTables>, id: number): Promise<TimelineEvent[]> {
    const rows = await db.selectFrom('incident_events').selectAll().where('incident_id', '=', id).orderBy('id').execute();
    return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), actor: r.actor, data: JSON.parse(r.data) as IncidentEventData }));
  }

  /** An incident's timeline, oldest first. */
  async timeline(id: number): Promise<TimelineEvent[]> {
    return this.timelineIn(this.db, id);
  }

  /** An incident's folded view from its timeline; undefined when there is no such incident. */
  async view(id: number): Promise<IncidentView | undefined> {
    return reduce(await this.timeline(id));
  }

  /** One incident's row. */
  async get(id: number): Promise<IncidentRecord | undefined> {
    const r = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** The alerts an incident linked, in link order. */
  async alerts(id: number): Promise<IncidentAlertLink[]> {
    const rows = await this.db.selectFrom('incident_alerts').selectAll().where('incident_id', '=', id).orderBy('linked_at').orderBy('rule_id').orderBy('fingerprint').execute();
    return rows.map((r) => ({ ruleId: r.rule_id, fingerprint: r.fingerprint, labels: labelsOf(r.labels), linkedAt: Number(r.linked_at) }));
  }

  /** Incidents, newest opened first. */
  async list(f: IncidentFilter = {}): Promise<IncidentRecord[]> {
    let q = this.db.selectFrom('incidents').selectAll();
    const status = f.status ?? 'open';
    if (status === 'open') q = q.where('status', 'in', [...OPEN_STATUSES]);
    else if (status !== 'all') q = q.where('status', '=', status);
    // Lists are JSON arrays of strings: a quoted, escaped name matches one element exactly.
    if (f.service) q = q.where(sql<boolean>`services like ${`%${likeEscape(JSON.stringify(f.service))}%`} escape '\\'`);
    if (f.system) q = q.where(sql<boolean>`systems like ${`%${likeEscape(JSON.stringify(f.system))}%`} escape '\\'`);
    const rows = await q
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit ?? 100)
      .execute();
    return rows.map(fromRow);
  }

  /** The incident of a correlation key resolved last (resolved or closed since), for recurrence. */
  async lastResolved(correlationKey: string): Promise<{ id: number; resolvedAt: number } | undefined> {
    const r = await this.db
      .selectFrom('incidents')
      .select(['id', 'resolved_at'])
      .where('correlation_key', '=', correlationKey)
      .where('status', 'in', ['resolved', 'closed'])
      .where('resolved_at', 'is not', null)
      .orderBy('resolved_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { id: Number(r.id), resolvedAt: Number(r.resolved_at) } : undefined;
  }

  /** Open incidents and those (not closed) that link the alert: what correlation chooses from. */
  async correlationCandidates(alert?: { ruleId: string; fingerprint: string }): Promise<{ id: number; view: IncidentView }[]> {
    const open = await this.db.selectFrom('incidents').select('id').where('status', 'in', [...OPEN_STATUSES]).execute();
    const ids = new Set(open.map((r) => Number(r.id)));
    if (alert) {
      const linked = await this.db
        .selectFrom('incident_alerts')
        .innerJoin('incidents', 'incidents.id', 'incident_alerts.incident_id')
        .select('incidents.id')
        .where('incident_alerts.rule_id', '=', alert.ruleId)
        .where('incident_alerts.fingerprint', '=', alert.fingerprint)
        .where('incidents.status', '!=', 'closed')
        .execute();
      for (const r of linked) ids.add(Number(r.id));
    }
    const out: { id: number; view: IncidentView }[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const view = await this.view(id);
      if (view) out.push({ id, view });
    }
    return out;
  }
}
