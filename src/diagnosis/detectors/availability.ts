/**
 * Services that are down: they reported spans all through the baseline and went silent (or nearly) in
 * the window, or their callers' client spans fail with connection errors (refused, unreachable, a failed
 * connect). Either is an `availability` cause named after the service (the callee, seen from its callers),
 * with the minute it went silent or the first refused call as the onset.
 *
 * A silent service whose direct caller went silent first, or whose callers stopped calling it, is starved
 * rather than down: it is left to the caller's evidence.
 */
import { affectedServices, serviceTerm } from './affected.ts';
import { searchRows } from './search.ts';
import { quote, searchLink, serviceLink } from '../links.ts';
import { upstreamOf } from '../topology.ts';
import { clamp, fmtClock, fmtPct, median, num, proportionZ, round, timeMs, volumeFactor } from '../stats.ts';
import type { Detector, DetectorContext, Evidence, ServiceEdge, TimeWindow } from '../types.ts';

const MINUTE = 60_000;
const minutes = (w: TimeWindow) => Math.max(1, (w.toMs - w.fromMs) / MINUTE);
/** The callee of a client span: the peer service, else the host it called. */
const CALLEE = 'coalesce(peer.service, server.address, net.peer.name)';
/**
 * A client span that failed to connect (Node's ECONNREFUSED, Java's ConnectException, gRPC UNAVAILABLE…):
 * it got no HTTP answer at all — a caller relaying its callee's "ECONNREFUSED" in a 502 is answered.
 */
export const CONNECTION_FAILURE = `isnull(http.response.status_code) and (${[
  'contains(status.message, "econnrefused")',
  'contains(status.message, "connection refused")',
  'contains(status.message, "unreachable")',
  'contains(status.message, "no route to host")',
  'contains(status.message, "failed to connect")',
  'contains(status.message, "could not connect")',
  'contains(error.type, "connrefused")',
  'contains(error.type, "connectionrefused")',
  'contains(error.type, "connection_refused")',
  'contains(error.type, "unreachable")',
  'lower(error.type) in ("connect", "connecterror", "connect_error", "connectexception", "ehostunreach", "enotfound", "unavailable")',
  'like(lower(error.type), "%.connectexception")',
].join(' or ')})`;

// A silent minute carries at most this share of the baseline's median spans per minute.
const SILENT_SHARE = 0.1;
// Fewer spans per minute than this in the baseline cannot tell silence from a lull.
const MIN_BASELINE_PER_MIN = 3;
const MIN_SILENT_RUN = 3;
const MIN_SILENT_RUN_LOW_TRAFFIC = 5;
const MIN_REFUSED = 5;
const MIN_REFUSED_SHARE = 0.2;
const LOOKBACK_MS = 10 * MINUTE;
const ROW_LIMIT = 10_000;

/** A service that went silent: when, and its baseline rate. */
interface Silence {
  service: string;
  onsetMs: number;
  silentMinutes: number;
  baselinePerMin: number;
  windowSpans: number;
}

/** Connection failures from callers to one callee over the window, with the baseline's share. */
interface Refusals {
  callee: string;
  callers: string[];
  refused: number;
  calls: number;
  baselineRefused: number;
  baselineCalls: number;
  /** The first minute most calls were refused, and the calls and refusals from then on. */
  onsetMs?: number;
  sinceCalls?: number;
  sinceRefused?: number;
}

/** The `availability` detector. */
export const availabilityDetector: Detector = {
  name: 'availability',
  description: 'Services that stopped reporting or refuse connections',
  async run(ctx) {
    const services = await affectedServices(ctx);
    if (ctx.signal.aborted) return [];
    const edges = await ctx.topology();
    // Callers outside the incident see a stopped service first: its upstream belongs to the picture.
    const near = services === null ? null : new Set([...services, ...ctx.scope.services.flatMap((s) => [...upstreamOf(s, edges)])]);
    const [silences, calls] = await Promise.all([silentServices(ctx, services), clientCalls(ctx, near)]);
    if (ctx.signal.aborted) return [];

    const refusals = refusalsOf(calls);
    const series = await callSeries(ctx, [...new Set([...refusals.map((r) => r.callee), ...silences.map((s) => s.service)])]);
    onsetOfRefusals(refusals, series);
    const silentBy = new Map(silences.map((s) => [s.service, s]));
    const refusedBy = new Map(refusals.map((r) => [r.callee, r]));
    const out: Evidence[] = [];
    for (const s of silences) {
      if (starved(ctx, s, silentBy, edges, calls, series)) continue;
      out.push(evidence(ctx, s.service, s, refusedBy.get(s.service)));
    }
    for (const r of refusals) if (!silentBy.has(r.callee)) out.push(evidence(ctx, r.callee, undefined, r));
    return out.sort((a, b) => b.score - a.score);
  },
};

/** Services whose spans per minute fell to (nearly) nothing for several minutes around the window. */
async function silentServices(ctx: DetectorContext, services: string[] | null): Promise<Silence[]> {
  const { baseline, window } = ctx.scope;
  const rows = await searchRows(ctx, `from spans ${serviceTerm(services)} | timechart span=1m count() as n by service.name`, { fromMs: baseline.fromMs, toMs: window.toMs }, ROW_LIMIT);
  const perService = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const t = timeMs(r._time);
    if (t === null || typeof r['service.name'] !== 'string') continue;
    const m = perService.get(r['service.name']) ?? new Map<number, number>();
    m.set(t, num(r.n) ?? 0);
    perService.set(r['service.name'], m);
  }
  const out: Silence[] = [];
  const first = Math.ceil(baseline.fromMs / MINUTE) * MINUTE;
  // Only whole minutes: the window's last, partial minute would look like a lull.
  const last = Math.floor(window.toMs / MINUTE) * MINUTE - MINUTE;
  const from = Math.max(first, Math.floor((window.fromMs - LOOKBACK_MS) / MINUTE) * MINUTE);
  for (const [service, counts] of perService) {
    const base: number[] = [];
    for (let t = first; t + MINUTE <= baseline.toMs && t < from; t += MINUTE) base.push(counts.get(t) ?? 0);
    const m = median(base);
    if (m === null || m < MIN_BASELINE_PER_MIN) continue;
    const minRun = m >= 10 ? MIN_SILENT_RUN : MIN_SILENT_RUN_LOW_TRAFFIC;
    let runStart: number | null = null;
    let run = 0;
    let found: Silence | null = null;
    for (let t = from; t <= last; t += MINUTE) {
      if ((counts.get(t) ?? 0) <= SILENT_SHARE * m) {
        runStart ??= t;
        run++;
        if (run >= minRun && (found === null || found.onsetMs === runStart)) found = { service, onsetMs: runStart, silentMinutes: run, baselinePerMin: m, windowSpans: 0 };
      } else {
        // A silence that ended before the window is an old story: keep looking.
        if (found && found.onsetMs + found.silentMinutes * MINUTE > window.fromMs) break;
        (found = null), (runStart = null), (run = 0);
      }
    }
    if (found) {
      let spans = 0;
      for (const [t, n] of counts) if (t >= window.fromMs && t < window.toMs) spans += n;
      out.push({ ...found, windowSpans: spans });
    }
  }
  return out;
}

/** Client calls per caller and callee over the window and the baseline, with their connection failures. */
interface CallCounts {
  caller: string;
  callee: string;
  window: { n: number; refused: number };
  baseline: { n: number; refused: number };
}

async function clientCalls(ctx: DetectorContext, near: Set<string> | null): Promise<CallCounts[]> {
  const text = `from spans kind=client | eval callee = ${CALLEE}, conn = if(status = "Error" and (${CONNECTION_FAILURE}), 1, 0) | stats count() as n sum(conn) as refused by service.name, callee`;
  const read = async (w: TimeWindow) =>
    (await searchRows(ctx, text, w, ROW_LIMIT)).filter(
      (r) => typeof r['service.name'] === 'string' && typeof r.callee === 'string' && r.callee !== '',
    );
  const [b, w] = await Promise.all([read(ctx.scope.baseline), read(ctx.scope.window)]);
  const out = new Map<string, CallCounts>();
  const entry = (caller: string, callee: string) => {
    const k = `${caller}\u0000${callee}`;
    let e = out.get(k);
    if (!e) out.set(k, (e = { caller, callee, window: { n: 0, refused: 0 }, baseline: { n: 0, refused: 0 } }));
    return e;
  };
  for (const [rows, side] of [[b, 'baseline'], [w, 'window']] as const) {
    for (const r of rows) {
      const caller = String(r['service.name']);
      const callee = String(r.callee);
      if (caller === callee || (near !== null && !near.has(caller) && !near.has(callee))) continue;
      const e = entry(caller, callee);
      e[side].n += num(r.n) ?? 0;
      e[side].refused += num(r.refused) ?? 0;
    }
  }
  return [...out.values()];
}

/** Callees whose callers' calls fail to connect, clearly more than in the baseline. */
function refusalsOf(calls: readonly CallCounts[]): Refusals[] {
  const byCallee = new Map<string, Refusals>();
  for (const c of calls) {
    const r = byCallee.get(c.callee) ?? { callee: c.callee, callers: [], refused: 0, calls: 0, baselineRefused: 0, baselineCalls: 0 };
    if (c.window.refused > 0) r.callers.push(c.caller);
    r.refused += c.window.refused;
    r.calls += c.window.n;
    r.baselineRefused += c.baseline.refused;
    r.baselineCalls += c.baseline.n;
    byCallee.set(c.callee, r);
  }
  return [...byCallee.values()].filter((r) => {
    const share = r.refused / Math.max(1, r.calls);
    const baseShare = r.baselineCalls > 0 ? r.baselineRefused / r.baselineCalls : 0;
    const z = r.baselineCalls > 0 ? proportionZ(r.refused, r.calls, r.baselineRefused, r.baselineCalls) : Infinity;
    return r.refused >= MIN_REFUSED && share >= MIN_REFUSED_SHARE && share - baseShare >= 0.1 && z >= 3;
  });
}

/** Calls and connection failures per minute towards some callees, from the lookback before the window. */
type CallSeries = Map<string, { t: number; n: number; refused: number }[]>;

async function callSeries(ctx: DetectorContext, callees: readonly string[]): Promise<CallSeries> {
  const out: CallSeries = new Map();
  if (callees.length === 0 || ctx.signal.aborted) return out;
  const w = ctx.scope.window;
  const rows = await searchRows(
    ctx,
    `from spans kind=client | eval callee = ${CALLEE}, conn = if(status = "Error" and (${CONNECTION_FAILURE}), 1, 0) | where callee in (${callees.map(quote).join(', ')}) | timechart span=1m count() as n sum(conn) as refused by callee`,
    { fromMs: Math.max(ctx.scope.baseline.fromMs, w.fromMs - LOOKBACK_MS), toMs: w.toMs },
    ROW_LIMIT,
  );
  for (const x of rows) {
    const t = timeMs(x._time);
    if (t === null || typeof x.callee !== 'string') continue;
    out.set(x.callee, [...(out.get(x.callee) ?? []), { t, n: num(x.n) ?? 0, refused: num(x.refused) ?? 0 }]);
  }
  for (const list of out.values()) list.sort((a, b) => a.t - b.t);
  return out;
}

/** The first minute most calls to each callee were refused, and the calls and refusals from then on. */
function onsetOfRefusals(refusals: Refusals[], series: CallSeries): void {
  for (const r of refusals) {
    const rows = series.get(r.callee) ?? [];
    const first = rows.find((x) => x.refused > 0 && x.refused >= 0.5 * x.n);
    if (!first) continue;
    r.onsetMs = first.t;
    const since = rows.filter((x) => x.t >= first.t);
    r.sinceCalls = since.reduce((a, x) => a + x.n, 0);
    r.sinceRefused = since.reduce((a, x) => a + x.refused, 0);
  }
}

/**
 * Whether a silent service only lost its traffic: a direct caller fell silent no later, or its callers,
 * which called it all through the baseline, (nearly) stopped calling it while it was silent — a caller
 * failing earlier in its own work never gets to the call.
 */
function starved(ctx: DetectorContext, s: Silence, silent: Map<string, Silence>, edges: readonly ServiceEdge[], calls: readonly CallCounts[], series: CallSeries): boolean {
  const callers = edges.filter((e) => e.callee === s.service).map((e) => e.caller);
  if (callers.some((c) => c !== s.service && (silent.get(c)?.onsetMs ?? Infinity) <= s.onsetMs)) return true;
  const perMinBefore = calls.filter((c) => c.callee === s.service).reduce((a, c) => a + c.baseline.n, 0) / minutes(ctx.scope.baseline);
  if (perMinBefore < 1) return false;
  const silenceEnd = s.onsetMs + s.silentMinutes * MINUTE;
  const during = (series.get(s.service) ?? []).filter((x) => x.t >= s.onsetMs && x.t < silenceEnd).reduce((a, x) => a + x.n, 0);
  return during / s.silentMinutes < 0.2 * perMinBefore;
}

function evidence(ctx: DetectorContext, service: string, s: Silence | undefined, r: Refusals | undefined): Evidence {
  const { baseline, window } = ctx.scope;
  const onsets = [s?.onsetMs, r?.onsetMs].filter((t): t is number => t !== undefined);
  const onsetMs = onsets.length > 0 ? Math.min(...onsets) : undefined;
  const refusedShare = r ? (r.sinceRefused ?? r.refused) / Math.max(1, r.sinceCalls ?? r.calls) : 0;
  const silenceScore = s ? 0.65 + 0.2 * clamp(s.silentMinutes / 10) : 0;
  const refusedScore = r ? 0.45 + 0.4 * clamp(refusedShare / 0.8) * volumeFactor(r.refused) : 0;
  const score = s && r ? Math.max(silenceScore, refusedScore) + 0.1 : Math.max(silenceScore, refusedScore);
  const clauses: string[] = [];
  if (s) clauses.push(`${service} stopped reporting spans at ${fmtClock(s.onsetMs)} (${round(s.baselinePerMin, 1)} per minute in the baseline, ${s.windowSpans} in the whole window; silent for ${s.silentMinutes} min)`);
  if (r) clauses.push(`${fmtPct(refusedShare)} of the calls to ${service} from ${r.callers.join(', ')} fail to connect${r.onsetMs !== undefined ? ` since ${fmtClock(r.onsetMs)}` : ''} (${r.sinceRefused ?? r.refused} of ${r.sinceCalls ?? r.calls})`);
  const links = [];
  if (s) links.push(searchLink(`Spans of ${service} per minute`, `from spans service.name=${quote(service)} | timechart span=1m count()`, { fromMs: baseline.fromMs, toMs: window.toMs }));
  if (r) links.push(searchLink(`Calls to ${service} failing to connect`, `from spans kind=client (peer.service=${quote(service)} OR server.address=${quote(service)}) status=error`, window));
  links.push(serviceLink(`${service} service page`, service, window));
  return {
    detector: 'availability',
    category: 'availability',
    component: service,
    services: [service, ...(r?.callers ?? []).filter((c) => c !== service)],
    role: 'cause',
    score: round(clamp(score, 0, 0.95), 2),
    summary: `${clauses.join('; ')}.`,
    ...(onsetMs !== undefined ? { onsetMs } : {}),
    figures: {
      silent_since_ms: s?.onsetMs ?? null,
      silent_minutes: s?.silentMinutes ?? null,
      baseline_spans_per_min: s ? round(s.baselinePerMin, 2) : null,
      window_spans: s?.windowSpans ?? null,
      refused_calls: r?.refused ?? null,
      calls: r?.calls ?? null,
      refused_share: r ? round(refusedShare, 4) : null,
      window_refused_share: r ? round(r.refused / Math.max(1, r.calls), 4) : null,
      baseline_refused_share: r && r.baselineCalls > 0 ? round(r.baselineRefused / r.baselineCalls, 4) : null,
    },
    links,
    nextStep: `Check whether ${service} is running (process or container, health endpoint, recent restarts or OOM kills) and read its last logs before ${onsetMs !== undefined ? fmtClock(onsetMs) : 'the onset'}; restart it or fail over.`,
  };
}
