/**
 * The `changes` detector: what changed shortly before the onset. Two sources:
 *
 * - recorded changes (deploys, rollbacks, configuration, feature flags, infrastructure…) of the services in
 *   scope and of the services they call, from 30 min before the onset to the window's end: the closer before
 *   the onset, the stronger (within ~10 min: strong); after the onset only weakly, since a change cannot cause
 *   what had already begun;
 * - out-of-band writes: database writes and schema statements on a **root span** (no parent: no request
 *   caused them — a script, a console, a migration), which change behaviour as surely as a deploy but are
 *   announced nowhere. Write patterns that also ran long before (a nightly job) are routine and left out.
 *
 * An announced configuration change and an out-of-band write of the same service within 2 min are one
 * event seen twice: one evidence, named after the announcement's key.
 */
import { normalizeStatement } from '../../model/db-statement.ts';
import type { ChangeRecord } from '../../store/state/changes.ts';
import { changeLink, quote, searchLink, traceLink } from '../links.ts';
import { clamp, fmtClock, ns, num, round, timeMs } from '../stats.ts';
import { downstreamOf } from '../topology.ts';
import type { Category, Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';

/** How far before the onset changes are looked at. */
export const CHANGE_LOOKBACK_MS = 30 * 60_000;
/** How far before the lookback a write pattern must have run too to count as routine. */
const HISTORY_MS = 3 * 60 * 60_000;
/** An announcement and an out-of-band write this close together are one event. */
const MERGE_MS = 2 * 60_000;
/** A change this soon after the (alert-derived) onset still counts as at the onset. */
const ONSET_GRACE_MS = 60_000;

const MIN = 60_000;

/** Statement verbs that change data or schema. */
const WRITE_OPS = ['INSERT', 'UPDATE', 'DELETE', 'UPSERT', 'MERGE', 'REPLACE', 'TRUNCATE', 'ALTER', 'DROP', 'CREATE'] as const;
/** Schema statements: their culprit is the statement itself (a dropped index, an altered column). */
const SCHEMA_OPS = new Set(['ALTER', 'DROP', 'CREATE', 'TRUNCATE']);

/**
 * Score of a change at `atMs` against the onset: ~0.9 right before it, 0.75 ten minutes before, 0.35
 * thirty minutes before; a change at the onset (within a minute after) 0.5; later ones 0.15.
 */
export function proximityScore(atMs: number, onsetMs: number): number {
  const before = onsetMs - atMs;
  if (before < -ONSET_GRACE_MS) return 0.15;
  if (before < 0) return 0.5;
  const m = before / MIN;
  if (m <= 10) return 0.9 - 0.015 * m;
  return clamp(0.75 - (m - 10) * 0.02, 0.2, 0.75);
}

/** How much a kind of change explains a fault by itself. */
/** What a change replaced before the onset still weighs. */
const SUPERSEDED_WEIGHT = 0.2;
// A rollback returns to a state that ran before (usually the fix of an earlier incident): rarely a new cause.
const KIND_WEIGHT: Record<string, number> = { deploy: 1, rollback: 0.35, config: 1, feature_flag: 1, infrastructure: 0.8, restart: 0.6, other: 0.6 };

/** How a kind of change reads in a summary. */
const KIND_LABEL: Record<string, string> = { config: 'configuration change', feature_flag: 'feature flag change', infrastructure: 'infrastructure change', restart: 'restart', other: 'change' };

/** `x min before the onset` / `at the onset` / `x min after the onset`. */
function relative(atMs: number, onsetMs: number): string {
  const d = Math.round((onsetMs - atMs) / MIN);
  if (d === 0) return 'at the onset';
  return d > 0 ? `${d} min before the onset` : `${-d} min after the onset`;
}

/** Attribute keys naming a configuration key or flag, most specific first. */
const KEY_ATTRIBUTES = ['key', 'config.key', 'feature_flag.key', 'flag', 'flag.key', 'setting', 'name'];

/** The configuration key a change names: an attribute, else a key-looking token of its description, else null. */
export function configKey(c: Pick<ChangeRecord, 'attributes' | 'description'>): string | null {
  for (const k of KEY_ATTRIBUTES) {
    const v = c.attributes[k];
    if ((typeof v === 'string' && v.trim()) || typeof v === 'number') return String(v).trim();
  }
  const text = c.description ?? '';
  // `retry_limit=0`, `payments.timeout: 5s` — a key assigned a value.
  const assigned = /([A-Za-z_][\w.-]*[\w])\s*(?:=|:)\s*\S/.exec(text);
  if (assigned && /[._-]/.test(assigned[1]!)) return assigned[1]!;
  // A dotted or snake_case token reads as a key (`payments.retry_limit`, `max_pool_size`).
  const token = /\b([A-Za-z][\w-]*(?:[._][\w-]+)+)\b/.exec(text);
  return token ? token[1]! : null;
}

/** The culprit of a recorded change (component and category, per the shared naming table). */
export function changeCulprit(c: ChangeRecord): { category: Category; component: string } {
  if (c.kind === 'config' || c.kind === 'feature_flag') return { category: 'configuration', component: `${c.service} ${configKey(c) ?? 'configuration'}` };
  // A configuration rollback names its key (a version rollback its version).
  const key = c.kind === 'rollback' && !c.version ? configKey(c) : undefined;
  if (key) return { category: 'configuration', component: `${c.service} ${key}` };
  return { category: 'change', component: `${c.service} ${c.version ?? c.kind}` };
}

/** A write pattern seen on root spans: service, table and statement verb. */
interface WriteGroup {
  service: string;
  table: string;
  op: string;
  count: number;
  firstMs: number;
  lastMs: number;
  statement: string | null;
  traceId: string | null;
  /** For an index statement naming no table (`DROP INDEX x`): the table the index was created on. */
  indexTable?: string;
}

// The verb of a write: the semantic-convention attribute (current or older name), else the statement's first word.
const OP_EXPR = `upper(coalesce(db.operation.name, db.operation, substr(trim(coalesce(db.statement, "")), 1, 8), ""))`;
const WRITE_FILTER = WRITE_OPS.map((op) => `like(op, "${op}%")`).join(' or ');

/** Root spans that wrote to a database, per service, table and verb, over `[fromMs, toMs)`. */
async function rootWrites(ctx: DetectorContext, w: TimeWindow, services: readonly string[] | undefined): Promise<WriteGroup[]> {
  const svc = services?.length ? ` service.name IN (${services.map(quote).join(', ')})` : '';
  const text = `from spans parent_span_id=""${svc} (db.system=* OR db.statement=* OR db.operation.name=*)
    | eval op = ${OP_EXPR}, tbl = coalesce(db.collection.name, db.sql.table, "")
    | where ${WRITE_FILTER}
    | stats count() as n min(_time) as first max(_time) as last by service.name, tbl, op`;
  const res = await ctx.queries.search(text, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 200, explainEmpty: false });
  const out: WriteGroup[] = [];
  for (const r of res.rows as Record<string, unknown>[]) {
    const first = timeMs(r.first);
    const last = timeMs(r.last);
    if (first === null || last === null) continue;
    const op = verbOf(String(r.op ?? ''));
    if (!op) continue;
    out.push({ service: String(r['service.name'] ?? ''), table: String(r.tbl ?? ''), op, count: num(r.n) ?? 0, firstMs: first, lastMs: last, statement: null, traceId: null });
  }
  return mergeVerbs(out);
}

/** The write verb a (possibly cut) operation text starts with. */
function verbOf(op: string): string | null {
  return WRITE_OPS.find((v) => op.startsWith(v)) ?? null;
}

/** Groups that differ only by how the verb was read (attribute vs statement) are one. */
function mergeVerbs(groups: WriteGroup[]): WriteGroup[] {
  const byKey = new Map<string, WriteGroup>();
  for (const g of groups) {
    const key = `${g.service}\u0000${g.table}\u0000${g.op}`;
    const had = byKey.get(key);
    if (!had) byKey.set(key, { ...g });
    else Object.assign(had, { count: had.count + g.count, firstMs: Math.min(had.firstMs, g.firstMs), lastMs: Math.max(had.lastMs, g.lastMs) });
  }
  return [...byKey.values()];
}

/** The search showing a write group's spans. */
function writeQuery(g: WriteGroup): string {
  const table = g.table ? ` db.collection.name=${quote(g.table)}` : '';
  return `from spans parent_span_id="" service.name=${quote(g.service)}${table} | eval op = ${OP_EXPR} | where like(op, "${g.op}%")`;
}

/** Fills in one example statement and trace of a write group (newest first). */
async function sampleWrite(ctx: DetectorContext, g: WriteGroup): Promise<void> {
  const res = await ctx.queries.search(`${writeQuery(g)} | fields trace_id, db.statement, name | head 1`, {
    fromNs: ns(g.firstMs),
    toNs: ns(g.lastMs + 1),
    limit: 1,
    explainEmpty: false,
  });
  const r = res.rows[0] as Record<string, unknown> | undefined;
  if (!r) return;
  g.traceId = r.trace_id ? String(r.trace_id) : null;
  const stmt = r['db.statement'] ? String(r['db.statement']) : null;
  g.statement = stmt ?? (r.name ? String(r.name) : null);
}

/** Schema statements that only add (a table, an index): they take nothing away and rarely cause a fault. */
const ADDITIVE_WEIGHT = 0.4;

/** The object a schema statement acts on (`index idx_orders_user`, `table orders`), or null. */
function schemaObject(statement: string | null): string | null {
  const m = /^\s*(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+)?(?:TEMP(?:ORARY)?\s+)?(INDEX|TABLE|VIEW)?\s*(?:CONCURRENTLY\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?[`"]?([\w.]+)[`"]?/i.exec(statement ?? '');
  return m ? `${(m[1] ?? 'table').toLowerCase()} ${m[2]!.toLowerCase()}` : null;
}

/**
 * How much a schema write weighs by itself: a later schema statement on the same object before the onset
 * (an index dropped, then created again) undid it; one that only adds weighs little.
 */
function schemaWeight(g: WriteGroup, all: readonly WriteGroup[], onsetMs: number): number {
  if (!SCHEMA_OPS.has(g.op)) return 1;
  const object = schemaObject(g.statement);
  const undone = object !== null && all.some((o) => o !== g && o.service === g.service && SCHEMA_OPS.has(o.op) && o.lastMs > g.lastMs && o.lastMs < onsetMs && schemaObject(o.statement) === object);
  if (undone) return SUPERSEDED_WEIGHT;
  return g.op === 'CREATE' ? ADDITIVE_WEIGHT : 1;
}

/**
 * `DROP INDEX x` names no table; the `CREATE INDEX x ON <table>` seen among the writes does, and with it
 * the ranker can join the drop to the statements on that table that got slow.
 */
function nameIndexTables(writes: WriteGroup[]): void {
  for (const g of writes) {
    const object = g.table ? null : schemaObject(g.statement);
    if (!object?.startsWith('index ')) continue;
    const created = writes.find((o) => o !== g && o.service === g.service && o.op === 'CREATE' && schemaObject(o.statement) === object);
    const table = created?.table || /\bON\s+(?:ONLY\s+)?[`"]?([\w.]+)/i.exec(created?.statement ?? '')?.[1];
    if (table) g.indexTable = table;
  }
}

/** Evidence of one out-of-band write group (no announcement beside it). */
function writeEvidence(ctx: DetectorContext, g: WriteGroup, weight: number): Evidence {
  const { onsetMs } = ctx.scope;
  const schema = SCHEMA_OPS.has(g.op);
  const normalized = g.statement ? normalizeStatement(g.statement) : null;
  const component = schema ? (normalized ?? `${g.service} ${g.op} ${g.table}`.trim()) : `${g.service} ${g.table || 'database'}`;
  const what = schema ? `schema statement ${normalized ? `"${shorten(normalized)}"` : g.op}` : `${g.op} on ${g.table || 'the database'}`;
  const times = g.count > 1 ? `${g.count} times from ${fmtClock(g.firstMs)} to ${fmtClock(g.lastMs)}` : `at ${fmtClock(g.firstMs)}`;
  return {
    detector: 'changes',
    category: schema ? 'database' : 'configuration',
    component,
    services: [g.service],
    role: 'cause',
    score: round(proximityScore(g.lastMs, onsetMs) * 0.95 * weight),
    summary: `Out-of-band ${what} by ${g.service} ${times} (${relative(g.lastMs, onsetMs)}), outside any request: a manual or scripted change no deploy announced.`,
    onsetMs: g.firstMs,
    figures: { writes: g.count, first_at: new Date(g.firstMs).toISOString(), last_at: new Date(g.lastMs).toISOString(), minutes_before_onset: round((onsetMs - g.lastMs) / MIN, 1), table: g.table || g.indexTable || null, operation: g.op, statement: g.statement },
    links: writeLinks(g),
    nextStep: schema
      ? `Find who ran "${shorten(g.statement ?? g.op)}" on ${g.service}'s database and check the statements that got slower since; revert it if it removed an index or changed a column.`
      : `Find who wrote to ${g.table || 'the database'} of ${g.service} at ${fmtClock(g.lastMs)} and compare the rows with their previous values; restore them if the change is unintended.`,
  };
}

function writeLinks(g: WriteGroup): Evidence['links'] {
  const links = [searchLink(`${g.op} spans on ${g.table || g.service} without a parent`, writeQuery(g), { fromMs: g.firstMs - MIN, toMs: g.lastMs + MIN })];
  if (g.traceId) links.push(traceLink('an example write', g.traceId));
  return links;
}

function shorten(s: string, n = 120): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** The services whose changes matter: those in scope and everything they call; undefined = every service. */
async function servicesOfInterest(ctx: DetectorContext): Promise<{ list: string[] | undefined; direct: Set<string> }> {
  const direct = new Set(ctx.scope.services);
  if (!direct.size) return { list: undefined, direct };
  const edges = await ctx.topology();
  const all = new Set(direct);
  for (const s of direct) for (const d of downstreamOf(s, edges)) all.add(d);
  return { list: [...all], direct };
}

/** The `changes` detector. */
export const changesDetector: Detector = {
  name: 'changes',
  description: 'Deploys, configuration changes and out-of-band writes shortly before the onset',
  async run(given) {
    const ctx = given;
    const { onsetMs, window } = ctx.scope;
    if (ctx.signal.aborted) return [];
    const { list, direct } = await servicesOfInterest(ctx);
    if (ctx.signal.aborted) return [];
    const fromMs = onsetMs - CHANGE_LOOKBACK_MS;
    const toMs = Math.max(window.toMs, onsetMs + 1);
    const [changes, recent, history] = await Promise.all([
      ctx.changes({ fromMs, toMs, services: list }),
      rootWrites(ctx, { fromMs, toMs }, list),
      rootWrites(ctx, { fromMs: fromMs - HISTORY_MS, toMs: fromMs }, list),
    ]);
    if (ctx.signal.aborted) return [];
    const weightOf = (service: string) => (!direct.size || direct.has(service) ? 1 : 0.9);

    // Write patterns that also ran repeatedly before the lookback are a job's, not a change.
    const routine = new Set(history.filter((h) => h.count >= 3).map((h) => `${h.service}\u0000${h.table}\u0000${h.op}`));
    const writes = recent.filter((g) => !routine.has(`${g.service}\u0000${g.table}\u0000${g.op}`)).slice(0, 10);
    for (const g of writes) {
      if (ctx.signal.aborted) return [];
      await sampleWrite(ctx, g);
    }

    nameIndexTables(writes);

    const merged = new Set<WriteGroup>();
    const best = new Map<string, Evidence>();
    const keep = (e: Evidence) => {
      const key = `${e.category}\u0000${e.component}`;
      const had = best.get(key);
      if (!had || had.score < e.score) best.set(key, e);
    };

    for (const c of changes) {
      const { category, component } = changeCulprit(c);
      // A change a later one replaced before the onset (the same key set again, the service deployed again
      // or rolled back) was no longer in effect when the trouble began.
      const superseded = changes.some((later) => later.at > c.at && later.at < onsetMs && later.service === c.service && later.kind !== 'restart' && changeCulprit(later).category === category && (category !== 'configuration' || changeCulprit(later).component === component));
      const weight = (KIND_WEIGHT[c.kind] ?? 0.6) * weightOf(c.service) * (superseded ? SUPERSEDED_WEIGHT : 1);
      let score = proximityScore(c.at, onsetMs) * weight;
      const what = c.kind === 'deploy' || c.kind === 'rollback'
        ? `${c.kind === 'rollback' ? 'Rollback' : 'Deploy'} of ${c.service} ${c.version ?? ''}${c.previousVersion ? ` (from ${c.previousVersion})` : ''}`.replace(/ +/g, ' ').trim()
        : `${KIND_LABEL[c.kind] ?? 'change'} of ${c.service}${category === 'configuration' ? ` (${component.slice(c.service.length + 1)})` : ''}`;
      let summary = `${what[0]!.toUpperCase()}${what.slice(1)} at ${fmtClock(c.at)}, ${relative(c.at, onsetMs)}${c.description ? `: ${shorten(c.description, 160)}` : ''}.`;
      const links = [changeLink(`changes of ${c.service}`, c.service, { fromMs: c.at - 30 * MIN, toMs: toMs })];
      const figures: Evidence['figures'] = { change_id: c.id, kind: c.kind, at: new Date(c.at).toISOString(), minutes_before_onset: round((onsetMs - c.at) / MIN, 1), version: c.version, previous_version: c.previousVersion, source: c.source };
      if (category === 'configuration') {
        const write = writes.find((g) => g.service === c.service && !merged.has(g) && Math.min(Math.abs(g.firstMs - c.at), Math.abs(g.lastMs - c.at)) <= MERGE_MS);
        if (write) {
          merged.add(write);
          score = Math.min(0.97, score + 0.05);
          summary += ` The database saw the matching out-of-band ${write.op} on ${write.table || 'a table'} at ${fmtClock(write.lastMs)}, outside any request.`;
          links.push(...writeLinks(write));
          Object.assign(figures, { writes: write.count, write_table: write.table || null, write_operation: write.op, write_at: new Date(write.lastMs).toISOString() });
        }
      }
      keep({
        detector: 'changes',
        category,
        component,
        services: [c.service],
        role: 'cause',
        score: round(score),
        summary,
        onsetMs: c.at,
        figures,
        links,
        nextStep: c.at > onsetMs + ONSET_GRACE_MS
          ? `This change came after the onset; check whether it was a response to the incident.`
          : category === 'change'
            ? `Compare ${c.service} before and after ${c.version ?? 'the change'} (errors, latency by version); roll back if the new version is the one failing.`
            : `Check what ${component.slice(c.service.length + 1)} was set to and revert it to the previous value if the failures started with it.`,
      });
    }
    for (const g of writes) if (!merged.has(g)) keep(writeEvidence(ctx, g, weightOf(g.service) * schemaWeight(g, writes, onsetMs)));
    return [...best.values()].sort((a, b) => b.score - a.score);
  },
};
