/**
 * Alert state on the state store: the rule manager's instances (so a restart neither loses a firing
 * alert nor its resolved notification), their transitions (history, chart markers, flap counts) and
 * each rule's evaluation health. Dialect-neutral Kysely with parameters; times are epoch ms.
 */
import type { AlertInstance, AlertState, AlertTransition, FlapState, Labels, RuleHealth } from '../../alerting/types.ts';
import type { StateDb } from './db.ts';

const STATES = new Set<AlertState>(['inactive', 'pending', 'firing', 'resolved']);

function state(text: string): AlertState {
  return STATES.has(text as AlertState) ? (text as AlertState) : 'inactive';
}

function labels(text: string): Labels {
  const v: unknown = JSON.parse(text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function flap(text: string): FlapState {
  const v = JSON.parse(text) as Partial<FlapState> | null;
  return { changes: Array.isArray(v?.changes) ? v.changes.filter((x): x is number => typeof x === 'number') : [], flapping: v?.flapping === true };
}

/** A stored transition, with its row id (newest last). */
export interface StoredTransition extends AlertTransition {
  id: number;
}

/** Filters of {@link AlertStore.transitions}. */
export interface TransitionFilter {
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  ruleId?: string;
  limit?: number;
}

/** What one evaluation of one rule changed, written in one transaction. */
export interface RuleWrite {
  ruleId: string;
  /** The rule's instances after the evaluation (replaces the stored set), or undefined to keep them. */
  instances?: AlertInstance[];
  transitions: AlertTransition[];
  health?: RuleHealth;
}

/** Instances, transitions and rule health. */
export class AlertStore {
  constructor(private readonly db: StateDb) {}

  /** Every stored instance (loaded once at start). */
  async instances(): Promise<AlertInstance[]> {
    const rows = await this.db.selectFrom('alert_instances').selectAll().execute();
    return rows.map((r) => ({
      ruleId: r.rule_id,
      fingerprint: r.fingerprint,
      labels: labels(r.labels),
      annotations: labels(r.annotations),
      state: state(r.state),
      value: r.value,
      activeAt: r.active_at,
      firedAt: r.fired_at,
      resolvedAt: r.resolved_at,
      lastSeenAt: r.last_seen_at,
      lastEvalAt: r.last_eval_at,
      flap: flap(r.flap),
    }));
  }

  /** The last health of every rule that was evaluated. */
  async health(): Promise<Map<string, RuleHealth>> {
    const rows = await this.db.selectFrom('rule_health').selectAll().execute();
    return new Map(
      rows.map((r) => [r.rule_id, { health: r.health === 'ok' || r.health === 'err' ? r.health : 'unknown', lastError: r.last_error, lastEvaluation: r.last_eval_at, evaluationMs: r.eval_ms }]),
    );
  }

  /** Writes what an evaluation changed: the rule's instances replaced, transitions appended, health set. */
  async write(w: RuleWrite): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (w.instances) {
        await tx.deleteFrom('alert_instances').where('rule_id', '=', w.ruleId).execute();
        // SQLite binds at most 32,766 parameters per statement: 12 columns → chunks of 1,000 rows.
        for (let i = 0; i < w.instances.length; i += 1000) {
          await tx
            .insertInto('alert_instances')
            .values(
              w.instances.slice(i, i + 1000).map((a) => ({
                rule_id: w.ruleId,
                fingerprint: a.fingerprint,
                labels: JSON.stringify(a.labels),
                annotations: JSON.stringify(a.annotations),
                state: a.state,
                value: finite(a.value),
                active_at: a.activeAt,
                fired_at: a.firedAt,
                resolved_at: a.resolvedAt,
                last_seen_at: a.lastSeenAt,
                last_eval_at: a.lastEvalAt,
                flap: JSON.stringify(a.flap),
              })),
            )
            .execute();
        }
      }
      for (let i = 0; i < w.transitions.length; i += 1000) {
        await tx
          .insertInto('alert_transitions')
          .values(
            w.transitions.slice(i, i + 1000).map((t) => ({
              rule_id: t.ruleId,
              fingerprint: t.fingerprint,
              labels: JSON.stringify(t.labels),
              from_state: t.from,
              to_state: t.to,
              at: t.at,
              value: finite(t.value),
            })),
          )
          .execute();
      }
      if (w.health) {
        const h = { health: w.health.health, last_error: w.health.lastError?.slice(0, 2000) ?? null, last_eval_at: w.health.lastEvaluation, eval_ms: w.health.evaluationMs };
        await tx
          .insertInto('rule_health')
          .values({ rule_id: w.ruleId, ...h })
          .onConflict((oc) => oc.column('rule_id').doUpdateSet(h))
          .execute();
      }
    });
  }

  /** Forgets a rule's instances and health (the rule is gone and its alerts were notified resolved). */
  async forgetRule(ruleId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('alert_instances').where('rule_id', '=', ruleId).execute();
      await tx.deleteFrom('rule_health').where('rule_id', '=', ruleId).execute();
    });
  }

  /** Transitions in [from, to), oldest first, at most `limit` (default 10,000, capped at 100,000) — the newest ones. */
  async transitions(f: TransitionFilter): Promise<StoredTransition[]> {
    const limit = Math.max(1, Math.min(f.limit ?? 10_000, 100_000));
    let q = this.db.selectFrom('alert_transitions').selectAll().where('at', '>=', f.from).where('at', '<', f.to).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit);
    if (f.ruleId !== undefined) q = q.where('rule_id', '=', f.ruleId);
    const rows = await q.execute();
    return rows.reverse().map((r) => ({ id: r.id, ruleId: r.rule_id, fingerprint: r.fingerprint, labels: labels(r.labels), from: state(r.from_state), to: state(r.to_state), at: r.at, value: r.value }));
  }

  /** Deletes transitions older than `before`; returns how many. */
  async pruneTransitions(before: number): Promise<number> {
    const r = await this.db.deleteFrom('alert_transitions').where('at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

// SQLite keeps NaN as NULL and PostgreSQL keeps it as NaN: both stores answer the same only if NaN and ±Infinity are null.
function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}
