/**
 * Database statements whose time grew most, and their share of the regression (issue 14 §4).
 *
 * Reads the APM database view (statements grouped by their normalised text, as the Database tab shows
 * them) over the baseline and the window, for the incident's services and everything they call. Per
 * statement it compares calls per minute, calls per request, average and p95 time, and the database time
 * it adds per minute. A statement is a cause when:
 * - it got slower per call (p95 and average both grew) and its added time is a real part of the added
 *   database time of all statements (a dropped index, a lock, a plan change), or
 * - it runs many more times per request while each call costs the same (an N+1 brought by a deploy; the
 *   changes detector usually holds the deploy, so this stays a moderate signal unless the growth is huge).
 */
import { databaseQuery, shapeDatabase } from '../../query/views/apm.ts';
import type { DatabaseStatementRow } from '../../api/contract.ts';
import { quote, searchLink, serviceLink } from '../links.ts';
import { downstreamOf } from '../topology.ts';
import type { Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';

const NAME = 'db-statements';
// Statements read per period: the view sorts by total time, so the ones that matter come first.
const STATEMENT_LIMIT = 2000;
// At most this many statements are reported (the ones adding most time).
const MAX_EVIDENCE = 4;
// Below these volumes a ratio says little.
const MIN_WINDOW_CALLS = 20;
const MIN_BASELINE_CALLS = 5;
const MIN_N1_CALLS = 50;

const ns = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;
const minutes = (w: TimeWindow): number => Math.max(1 / 60, (w.toMs - w.fromMs) / 60_000);
const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** `4 ms`, `180 ms`, `2.3 s`. */
export function formatMs(v: number): string {
  if (v >= 10_000) return `${Math.round(v / 1000)} s`;
  if (v >= 1000) return `${round(v / 1000, 1)} s`;
  if (v >= 10) return `${Math.round(v)} ms`;
  return `${round(v, 1)} ms`;
}

/** `3.4×`, `45×`. */
function times(r: number): string {
  return r >= 10 ? `${Math.round(r)}×` : `${round(r, 1)}×`;
}

/** Clock time of an epoch-ms instant (UTC), for summaries. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** One statement of one service over both periods, rates per minute. */
interface StatementDelta {
  service: string;
  statement: string;
  example: string;
  base?: DatabaseStatementRow;
  win: DatabaseStatementRow;
  baseCallsPerMin: number;
  winCallsPerMin: number;
  /** Calls per request of the service, when it serves requests. */
  baseCallsPerRequest: number | null;
  winCallsPerRequest: number | null;
  /** Database time added per minute (ms). */
  addedMsPerMin: number;
}

/** A query-language glob matching the raw statements behind a normalised one (`?` literals → `*`). */
export function statementGlob(normalised: string): string {
  return normalised.replace(/\?/g, '*').replace(/\*{2,}/g, '*');
}

/** The statements' search over a window. */
function statementSearch(service: string, statement: string, tail = ''): string {
  return `from spans service.name=${quote(service)} db.statement=${quote(statementGlob(statement))}${tail}`;
}

/** Server requests per service over a window. */
async function requestsByService(ctx: DetectorContext, w: TimeWindow): Promise<Map<string, number>> {
  const res = await ctx.queries.search('from spans kind=server | stats count() as n by service.name', { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 10_000, explainEmpty: false });
  return new Map(res.rows.map((r) => [String(r['service.name']), Number(r.n) || 0]));
}

async function statements(ctx: DetectorContext, w: TimeWindow): Promise<DatabaseStatementRow[]> {
  return shapeDatabase(await ctx.queries.rows(databaseQuery(ctx.queries.dialect, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), sort: 'total_time', limit: STATEMENT_LIMIT })));
}

/** Where the statement's per-minute figure first crossed `threshold` in the window and stayed there (the next minute too, when there is one). */
async function onsetOf(ctx: DetectorContext, d: StatementDelta, field: 'avg' | 'n', threshold: number): Promise<number | undefined> {
  const w = ctx.scope.window;
  const res = await ctx.queries.search(statementSearch(d.service, d.statement, ' | timechart span=1m count() as n avg(duration_ms) as avg'), {
    fromNs: ns(w.fromMs),
    toNs: ns(w.toMs),
    limit: 10_000,
    explainEmpty: false,
  });
  const points = res.rows.map((r) => ({ t: Date.parse(String(r._time)), v: Number(r[field]) || 0 })).filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
  for (let i = 0; i < points.length; i++) {
    const next = points[i + 1];
    if (points[i]!.v > threshold && (!next || next.v > threshold)) return points[i]!.t;
  }
  return undefined;
}

/**
 * The version of the service issuing (nearly all of) the statement's calls in the window, when the baseline
 * did not run it: the statement's change came with that deploy.
 */
async function newVersionOf(ctx: DetectorContext, d: StatementDelta): Promise<string | undefined> {
  const opts = (w: TimeWindow) => ({ fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 1000, explainEmpty: false });
  const [win, base] = await Promise.all([
    ctx.queries.search(statementSearch(d.service, d.statement, ' | stats count() as n by service.version | sort -n'), opts(ctx.scope.window)),
    ctx.queries.search(`from spans service.name=${quote(d.service)} | stats count() as n by service.version`, opts(ctx.scope.baseline)),
  ]);
  const total = win.rows.reduce((a, r) => a + (Number(r.n) || 0), 0);
  const top = win.rows[0];
  const version = top?.['service.version'];
  if (!top || typeof version !== 'string' || !version || (Number(top.n) || 0) < 0.8 * total) return undefined;
  return base.rows.some((r) => r['service.version'] === version) ? undefined : version;
}

/** Pairs window statements with their baseline, in the services that matter. */
function deltas(base: DatabaseStatementRow[], win: DatabaseStatementRow[], services: Set<string> | null, reqBase: Map<string, number>, reqWin: Map<string, number>, bMin: number, wMin: number): StatementDelta[] {
  const key = (r: DatabaseStatementRow) => `${r.service}\u0000${r.statement}`;
  const baseBy = new Map(base.map((r) => [key(r), r]));
  const out: StatementDelta[] = [];
  for (const r of win) {
    if (services && !services.has(r.service)) continue;
    const b = baseBy.get(key(r));
    const rb = reqBase.get(r.service) ?? 0;
    const rw = reqWin.get(r.service) ?? 0;
    out.push({
      service: r.service,
      statement: r.statement,
      example: r.example,
      base: b,
      win: r,
      baseCallsPerMin: (b?.calls ?? 0) / bMin,
      winCallsPerMin: r.calls / wMin,
      baseCallsPerRequest: rb > 0 ? (b?.calls ?? 0) / rb : null,
      winCallsPerRequest: rw > 0 ? r.calls / rw : null,
      addedMsPerMin: (r.total_time_ms ?? 0) / wMin - (b?.total_time_ms ?? 0) / bMin,
    });
  }
  return out;
}

/** The evidence about one statement, or undefined when it did not change in a way that explains anything. */
function judge(d: StatementDelta, share: number, w: TimeWindow): (Evidence & { kind: 'slow' | 'n+1' }) | undefined {
  const b = d.base;
  const winAvg = d.win.avg_ms ?? 0;
  const winP95 = d.win.p95_ms ?? 0;
  const baseAvg = b?.avg_ms ?? 0;
  const baseP95 = b?.p95_ms ?? 0;
  const avgRatio = baseAvg > 0 ? winAvg / baseAvg : Infinity;
  const p95Ratio = baseP95 > 0 ? winP95 / baseP95 : Infinity;
  const cprRatio = d.baseCallsPerRequest !== null && d.winCallsPerRequest !== null && d.baseCallsPerRequest > 0 ? d.winCallsPerRequest / d.baseCallsPerRequest : null;
  const volume = clamp01(Math.log10(Math.max(1, d.win.calls)) / 3);
  const shareText = `${Math.round(share * 100)}% of the added database time`;
  const figures: Evidence['figures'] = {
    baseline_calls_per_min: round(d.baseCallsPerMin),
    window_calls_per_min: round(d.winCallsPerMin),
    baseline_calls_per_request: d.baseCallsPerRequest === null ? null : round(d.baseCallsPerRequest),
    window_calls_per_request: d.winCallsPerRequest === null ? null : round(d.winCallsPerRequest),
    baseline_avg_ms: b ? round(baseAvg, 3) : null,
    window_avg_ms: round(winAvg, 3),
    baseline_p95_ms: b ? round(baseP95, 3) : null,
    window_p95_ms: round(winP95, 3),
    added_ms_per_min: round(d.addedMsPerMin),
    regression_share: round(share, 3),
    db_system: d.win.db_system,
    example: d.example.slice(0, 500),
  };
  const links = [
    searchLink('Calls of this statement per minute (baseline and window)', statementSearch(d.service, d.statement, ' | timechart span=1m count() as calls p95(duration_ms) as p95_ms'), { fromMs: w.fromMs - 30 * 60_000, toMs: w.toMs }),
    searchLink('Slowest calls of this statement', statementSearch(d.service, d.statement, ' | sort -duration_ms | head 50'), w),
    serviceLink(`${d.service} database calls`, d.service, w),
  ];
  const base = { detector: NAME, category: 'database' as const, component: d.statement, services: [d.service], role: 'cause' as const, figures, links };

  const slower = b !== undefined && b.calls >= MIN_BASELINE_CALLS && d.win.calls >= MIN_WINDOW_CALLS && p95Ratio >= 2 && avgRatio >= 1.5;
  if (slower && share >= 0.1) {
    const effect = clamp01(Math.log10(p95Ratio));
    return {
      ...base,
      kind: 'slow',
      score: round(0.15 + 0.8 * effect * (0.6 + 0.4 * share) * (0.6 + 0.4 * volume), 3),
      summary: `${short(d.statement)} (${d.service}): p95 ${formatMs(baseP95)} → ${formatMs(winP95)} (${times(p95Ratio)}), average ${formatMs(baseAvg)} → ${formatMs(winAvg)}, ${shareText}.`,
      nextStep: `Run EXPLAIN on this statement (${d.win.db_system || 'database'}) and look for a missing or dropped index, a lock or a changed plan; compare with the baseline's plan.`,
    };
  }
  // N+1: many more calls per request at the same cost per call (a loop issuing one statement per item).
  const perCallSame = b === undefined || avgRatio < 1.5;
  const isNew = b === undefined || b.calls === 0;
  const manyMore = cprRatio !== null ? cprRatio >= 3 : isNew && d.winCallsPerRequest !== null && d.winCallsPerRequest >= 3;
  if (perCallSame && manyMore && d.win.calls >= MIN_N1_CALLS && share >= 0.1) {
    const growth = cprRatio ?? d.winCallsPerRequest ?? 1;
    const score = 0.35 + 0.35 * clamp01(Math.log(growth) / Math.log(30)) * (0.5 + 0.5 * share);
    const perRequest = d.winCallsPerRequest === null ? '' : round(d.winCallsPerRequest, 1);
    const summary = isNew
      ? `N+1: ${short(d.statement)} (${d.service}) is new and runs ${perRequest} times per request (${round(d.winCallsPerMin, 0)} calls/min) at ${formatMs(winAvg)} per call, ${shareText}.`
      : `N+1: ${short(d.statement)} (${d.service}) runs ${round(d.baseCallsPerRequest ?? 0, 1)} → ${perRequest} times per request (${times(growth)}) while each call costs the same (${formatMs(baseAvg)} → ${formatMs(winAvg)}), ${shareText}.`;
    return {
      ...base,
      kind: 'n+1',
      score: round(score, 3),
      summary,
      nextStep: 'Find the code path issuing this statement in a loop (look at one trace of a slow request) and batch it (IN list or JOIN); check the deploy that introduced it.',
    };
  }
  return undefined;
}

/** A statement cut for a summary line. */
function short(statement: string): string {
  return statement.length > 120 ? `${statement.slice(0, 117)}…` : statement;
}

/** The `db-statements` detector. */
export const dbStatementsDetector: Detector = {
  name: NAME,
  description: 'Database statements whose time grew most and their share of the regression',
  async run(given) {
    if (given.signal.aborted) return [];
    const ctx = given;
    const { window: w, baseline: bw } = ctx.scope;
    let services: Set<string> | null = null;
    if (ctx.scope.services.length) {
      // A slow statement of a service the incident's services call is still the cause of their symptoms.
      const edges = await ctx.topology();
      services = new Set(ctx.scope.services);
      for (const s of ctx.scope.services) for (const d of downstreamOf(s, edges)) services.add(d);
    }
    if (ctx.signal.aborted) return [];
    const [base, win, reqBase, reqWin] = await Promise.all([statements(ctx, bw), statements(ctx, w), requestsByService(ctx, bw), requestsByService(ctx, w)]);
    if (ctx.signal.aborted || !win.length) return [];
    const all = deltas(base, win, services, reqBase, reqWin, minutes(bw), minutes(w));
    const addedTotal = all.reduce((s, d) => s + Math.max(0, d.addedMsPerMin), 0);
    if (addedTotal <= 0) return [];
    const found = all
      .filter((d) => d.addedMsPerMin > 0)
      .sort((a, b) => b.addedMsPerMin - a.addedMsPerMin)
      .map((d) => ({ d, e: judge(d, d.addedMsPerMin / addedTotal, w) }))
      .filter((x): x is { d: StatementDelta; e: NonNullable<ReturnType<typeof judge>> } => x.e !== undefined)
      .slice(0, MAX_EVIDENCE);
    const out: Evidence[] = [];
    for (const { d, e } of found) {
      if (ctx.signal.aborted) break;
      const { kind, ...evidence } = e;
      // When it began: the first minute above the baseline's p95 (slower calls) or twice its call rate (N+1).
      const threshold = kind === 'slow' ? Math.max(2 * (d.base?.avg_ms ?? 0), d.base?.p95_ms ?? 0) : Math.max(1, 2 * d.baseCallsPerMin);
      const [onsetMs, version] = await Promise.all([
        onsetOf(ctx, d, kind === 'slow' ? 'avg' : 'n', threshold).catch(() => undefined),
        newVersionOf(ctx, d).catch(() => undefined),
      ]);
      if (onsetMs !== undefined) {
        evidence.onsetMs = onsetMs;
        evidence.summary = `${evidence.summary.slice(0, -1)}, from ${clock(onsetMs)} UTC.`;
      }
      if (version !== undefined) {
        // Named in the figures so the ranker can hand this finding to the deploy that brought it.
        evidence.figures.service_version = version;
        evidence.summary = `${evidence.summary.slice(0, -1)}; issued by ${d.service} ${version}, a version the baseline did not run.`;
      }
      out.push(evidence);
    }
    return out;
  },
};
