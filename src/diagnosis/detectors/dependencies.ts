/**
 * The `dependencies` detector: along the service map, each caller's outgoing calls per callee (the APM
 * external-calls view: calls, errors, p95 as the caller saw them), incident window against baseline.
 *
 * - a callee whose calls got slow or fail is a `dependency` cause named after the callee. It weighs less when
 *   the callee itself waits on another failing callee (the deepest one is the likelier culprit), when a
 *   deploy or configuration change of the callee came just before (the change explains it), a little less
 *   when the callee reports its own spans (its statements, resources and changes are the other detectors'
 *   more precise findings), and it is a symptom when the callee is the incident's own service;
 * - callers timing out first: failed calls ending at a fixed duration or with a time-out error, while the
 *   callee's own server spans of the same traces ran longer than the caller waited — both durations told;
 * - a callee that stopped answering at all (no server spans since the onset) while calls fail is an
 *   `availability` cause: the service is down;
 * - a caller making several times more calls per request than before (2 → 8) is a `code` finding on the
 *   caller's operation, or a `change` when a deploy or configuration change of the caller explains it.
 */
import type { ExternalCallRow } from '../../api/contract.ts';
import { externalQuery, shapeExternal } from '../../query/views/apm.ts';
import type { ChangeRecord } from '../../store/state/changes.ts';
import { quote, searchLink, serviceLink, traceLink } from '../links.ts';
import { clamp, fmtClock, fmtMs, fmtPct, ns, num, proportionZ, round, volumeFactor } from '../stats.ts';
import { downstreamOf, upstreamOf } from '../topology.ts';
import type { Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';
import { changeCulprit, CHANGE_LOOKBACK_MS } from './changes.ts';
import { callsQuery, recentCalls, sampleFailedCalls, type CallSample } from './dependency-calls.ts';
import { possessive } from './wording.ts';

/** Fewest window calls an edge needs before its figures are read at all. */
const MIN_CALLS = 10;
/** Most flagged edges looked at closely (samples, time-outs). */
const MAX_FLAGGED = 6;

/** One caller → callee edge with its figures over the baseline and the window. */
export interface EdgeFigures {
  caller: string;
  callee: string;
  kind: string;
  base: ExternalCallRow | undefined;
  win: ExternalCallRow;
}

/** What is wrong with an edge, if anything. */
export interface EdgeFinding {
  edge: EdgeFigures;
  failing: boolean;
  slow: boolean;
  score: number;
}

const rate = (r: ExternalCallRow | undefined) => (r && r.calls > 0 ? r.errors / r.calls : 0);

/**
 * Judges one edge: failing when the error share rose clearly (≥ 5 errors, ≥ 5% and well above the baseline's,
 * significant), slow when p95 at least doubled and grew by 50 ms or more; the score grows with the effect and
 * the volume. Null when the edge looks as usual.
 */
export function judgeEdge(edge: EdgeFigures): EdgeFinding | null {
  const { base, win } = edge;
  if (win.calls < MIN_CALLS) return null;
  const wr = rate(win);
  const br = rate(base);
  const failing = win.errors >= 5 && wr >= 0.05 && wr >= 3 * br + 0.02 && proportionZ(win.errors, win.calls, base?.errors ?? 0, Math.max(base?.calls ?? 0, 1)) > 3;
  const bp = base?.p95_ms ?? null;
  const wp = win.p95_ms ?? null;
  const slow = bp !== null && wp !== null && (base?.calls ?? 0) >= MIN_CALLS && wp >= 2 * bp && wp - bp >= 50;
  if (!failing && !slow) return null;
  const errScore = failing ? clamp(0.4 + 0.6 * Math.min(1, (wr - br) / 0.3)) * (0.55 + 0.45 * volumeFactor(win.errors)) : 0;
  const slowScore = slow ? clamp(0.35 + 0.25 * Math.log2(wp! / Math.max(bp!, 1))) * (0.55 + 0.45 * volumeFactor(win.calls)) : 0;
  const score = Math.min(0.95, Math.max(errScore, slowScore) + (failing && slow ? 0.05 : 0));
  return { edge, failing, slow, score };
}

/** The services whose outgoing calls are read: those in scope and everything up- and downstream of them. */
async function callersOfInterest(ctx: DetectorContext): Promise<Set<string> | null> {
  if (!ctx.scope.services.length) return null;
  const edges = await ctx.topology();
  const out = new Set(ctx.scope.services);
  for (const s of ctx.scope.services) for (const x of [...upstreamOf(s, edges), ...downstreamOf(s, edges)]) out.add(x);
  return out;
}

async function external(ctx: DetectorContext, w: TimeWindow): Promise<ExternalCallRow[]> {
  return shapeExternal(await ctx.queries.rows(externalQuery(ctx.queries.dialect, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 1000 })));
}

/** Server spans per service over a range. */
async function requests(ctx: DetectorContext, w: TimeWindow): Promise<Map<string, number>> {
  const res = await ctx.queries.search('from spans kind=server | stats count() as n by service.name', { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 10_000, explainEmpty: false });
  return new Map((res.rows as Record<string, unknown>[]).map((r) => [String(r['service.name']), num(r.n) ?? 0]));
}

const key = (a: string, b: string) => `${a}\u0000${b}`;

/** The `dependencies` detector. */
export const dependenciesDetector: Detector = {
  name: 'dependencies',
  description: 'Failing or slow downstream dependencies along the service map, including callers that time out first',
  async run(given) {
    const ctx = given;
    const { window, baseline, onsetMs } = ctx.scope;
    if (ctx.signal.aborted) return [];
    const callers = await callersOfInterest(ctx);
    if (ctx.signal.aborted) return [];
    const afterOnset = { fromMs: Math.min(Math.max(onsetMs, window.fromMs), window.toMs - 1), toMs: window.toMs };
    const [baseRows, winRows, baseReqs, winReqs, lateReqs] = await Promise.all([
      external(ctx, baseline),
      external(ctx, window),
      requests(ctx, baseline),
      requests(ctx, window),
      requests(ctx, afterOnset),
    ]);
    if (ctx.signal.aborted) return [];
    const baseBy = new Map(baseRows.map((r) => [key(r.service, r.target), r]));
    const edges: EdgeFigures[] = winRows
      .filter((r) => r.target !== 'unknown' && r.target !== r.service && (!callers || callers.has(r.service)))
      .map((win) => ({ caller: win.service, callee: win.target, kind: win.target_kind, base: baseBy.get(key(win.service, win.target)), win }));

    const findings = edges.map(judgeEdge).filter((f): f is EdgeFinding => f !== null).sort((a, b) => b.score - a.score).slice(0, MAX_FLAGGED);
    const failingCallers = new Map<string, string[]>();
    for (const f of findings) failingCallers.set(f.edge.caller, [...(failingCallers.get(f.edge.caller) ?? []), f.edge.callee]);

    const callees = [...new Set(findings.map((f) => f.edge.callee))];
    const changes = callees.length ? await ctx.changes({ fromMs: onsetMs - CHANGE_LOOKBACK_MS, toMs: onsetMs + 60_000, services: callees }) : [];
    const evidence: Evidence[] = [];
    for (const f of findings) {
      if (ctx.signal.aborted) return evidence;
      const changed = changes.find((c) => c.service === f.edge.callee && EXPLAINING_KINDS.includes(c.kind));
      evidence.push(await edgeEvidence(ctx, f, { baseReqs, lateReqs, deeper: failingCallers.get(f.edge.callee) ?? [], changed }));
    }
    evidence.push(...(await fanOutEvidence(ctx, edges, baseReqs, winReqs)));
    return mergeByCallee(evidence);
  },
};

interface EdgeContext {
  baseReqs: Map<string, number>;
  lateReqs: Map<string, number>;
  /** Callees the callee itself is failing to reach. */
  deeper: string[];
  /** A deploy or configuration change of the callee shortly before the onset (newest first). */
  changed: ChangeRecord | undefined;
}

/** Kinds of change that explain a service behaving differently. */
const EXPLAINING_KINDS: readonly string[] = ['deploy', 'rollback', 'config', 'feature_flag'];
/** A callee that reports its own spans is also seen from inside by the other detectors: its evidence leaves them room. */
const INSTRUMENTED_WEIGHT = 0.9;

/** A dependency that was failing in the window but no longer at the onset weighs this much: past trouble. */
const ENDED_WEIGHT = 0.3;
/** How long before the onset a dependency must still be failing to be the incident's cause. */
const AT_ONSET_MS = 30_000;

/**
 * Whether the edge's trouble was over by the onset (a previous fault inside the window's lead): the calls
 * from 30 s before the onset on, at least 5 of them, fail at most as often as in the baseline (or 5%) and,
 * for a slow edge, answer within twice the baseline p95. Answers those calls' figures then, else null.
 */
async function endedBeforeOnset(ctx: DetectorContext, f: EdgeFinding): Promise<{ fromMs: number; calls: number; errorRate: number; p95Ms: number | null } | null> {
  const { window, onsetMs } = ctx.scope;
  const fromMs = Math.max(window.fromMs, onsetMs - AT_ONSET_MS);
  if (fromMs <= window.fromMs) return null;
  const recent = await recentCalls(ctx, f.edge, fromMs, window.toMs);
  if (recent.calls < 5) return null;
  const baseRate = rate(f.edge.base);
  if (f.failing && recent.errorRate > Math.max(0.05, 2 * baseRate)) return null;
  const baseP95 = f.edge.base?.p95_ms ?? null;
  if (f.slow && (baseP95 === null || recent.p95Ms === null || recent.p95Ms > 2 * baseP95)) return null;
  return { fromMs, ...recent };
}

/** A slow edge whose callee answers its own requests as fast as ever weighs this much: the time is lost at the caller. */
const CALLER_SIDE_WEIGHT = 0.35;

/** p95 of a service's own requests (server spans) over a range; null with fewer than 5. */
async function ownP95(ctx: DetectorContext, service: string, w: TimeWindow): Promise<number | null> {
  const res = await ctx.queries.search(`from spans kind=server service.name=${quote(service)} | stats p95(duration_ms) as p95 count() as n`, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 1, explainEmpty: false });
  const r = res.rows[0] as Record<string, unknown> | undefined;
  return r && (num(r.n) ?? 0) >= 5 ? num(r.p95) : null;
}

/**
 * When calls got several times slower as the caller sees them but the callee's own requests did not (under
 * 1.5×), the callee is not what slowed: a saturated caller (its event loop late to read the answers), the
 * network or a pool in between is. Answers both p95s then, else null.
 */
async function callerSideSlowness(ctx: DetectorContext, callee: string, seenBaseline: number | null, seenWindow: number | null): Promise<{ baseline: number; window: number } | null> {
  if (!seenBaseline || !seenWindow || seenWindow < 3 * seenBaseline) return null;
  const [baseline, window] = await Promise.all([ownP95(ctx, callee, ctx.scope.baseline), ownP95(ctx, callee, ctx.scope.window)]);
  return baseline !== null && window !== null && window < 1.5 * Math.max(baseline, 1) ? { baseline, window } : null;
}

/** Fewest requests the baseline rate must predict over a silence for it to mean the callee is down. */
const MIN_EXPECTED_SILENT = 5;

/**
 * Whether the callee's silence means it is down: it served none of the failed calls (a caller giving up on
 * a callee that answers late is not calling a dead one), and it has served no request since the calls began
 * to fail, over long enough that its baseline rate would have brought several (an incident diagnosed a
 * second after it opened sees no spans yet even from a healthy but slow service).
 */
async function silentSinceFailing(ctx: DetectorContext, f: EdgeFinding, sample: CallSample | null, ec: EdgeContext): Promise<boolean> {
  if (sample?.timeout && sample.timeout.calleeMs !== null) return false;
  const { baseline, window, onsetMs } = ctx.scope;
  const fromMs = Math.max(window.fromMs, Math.min(onsetMs, sample?.firstFailureMs ?? onsetMs));
  const perMs = (ec.baseReqs.get(f.edge.callee) ?? 0) / Math.max(1, baseline.toMs - baseline.fromMs);
  if (perMs * (window.toMs - fromMs) < MIN_EXPECTED_SILENT) return false;
  if (fromMs >= onsetMs) return true;
  return ((await requests(ctx, { fromMs, toMs: window.toMs })).get(f.edge.callee) ?? 0) === 0;
}

/** Evidence of one flagged edge: a failing or slow dependency, a time-out mismatch, or a callee that is down. */
async function edgeEvidence(ctx: DetectorContext, f: EdgeFinding, ec: EdgeContext): Promise<Evidence> {
  const { caller, callee, kind, base, win } = f.edge;
  const { window } = ctx.scope;
  const sample: CallSample | null = f.failing ? await sampleFailedCalls(ctx, f.edge, base?.p95_ms ?? null) : null;
  const figures: Evidence['figures'] = {
    caller,
    baseline_calls: base?.calls ?? 0,
    window_calls: win.calls,
    baseline_error_rate: round(rate(base), 4),
    window_error_rate: round(rate(win), 4),
    baseline_p95_ms: base?.p95_ms ?? null,
    window_p95_ms: win.p95_ms,
  };
  const errText = `${fmtPct(rate(win))} of ${possessive(caller)} ${win.calls} calls to it fail (baseline ${fmtPct(rate(base))})`;
  const slowText = `p95 ${fmtMs(base?.p95_ms ?? null)} → ${fmtMs(win.p95_ms)}${base?.p95_ms ? ` (${round(win.p95_ms! / base.p95_ms, 1)}×)` : ''}`;
  const figuresText = [f.failing ? errText : '', f.slow ? slowText : ''].filter(Boolean).join('; ');
  const links = [searchLink(`${possessive(caller)} calls to ${callee}`, `${callsQuery(caller, callee, kind)} | timechart span=1m count() p95(duration_ms) by status`, window)];
  if (kind === 'service') links.push(serviceLink(callee, callee, window));
  if (sample?.exampleTrace) links.push(traceLink('a failed call', sample.exampleTrace));
  const services = [callee, caller];
  const onsetMs = sample?.firstFailureMs ?? undefined;

  // Down: it answered requests in the baseline, none since the onset nor since the calls began to fail, and they fail.
  const down = kind === 'service' && (ec.baseReqs.get(callee) ?? 0) > 0 && (ec.lateReqs.get(callee) ?? 0) === 0 && rate(win) >= 0.5 && (await silentSinceFailing(ctx, f, sample, ec));
  if (down) {
    const conn = sample?.connectionErrors ?? 0;
    return {
      detector: 'dependencies',
      category: 'availability',
      component: callee,
      services,
      role: 'cause',
      score: round(Math.min(0.95, f.score + (conn > 0 ? 0.1 : 0))),
      summary: `${callee} is not answering: ${errText}${conn > 0 ? `, with connection errors ("${sample!.topMessage}")` : ''}, and ${callee} has reported no requests of its own since they began to fail (${ec.baseReqs.get(callee)} in the baseline).`,
      onsetMs,
      figures: { ...figures, callee_requests_since_onset: 0, connection_errors: conn },
      links,
      nextStep: `Check whether ${callee} is running and reachable from ${caller} (process, pods, port, DNS); restart it or fail over.`,
    };
  }

  let summary = `${possessive(caller)} calls to ${callee} degraded: ${figuresText}.`;
  let nextStep = `Open ${possessive(callee)} own latency and errors over the window to see why it answers ${f.failing ? 'with errors' : 'slowly'}.`;
  if (sample?.timeout) {
    const t = sample.timeout;
    const late = t.calleeMs !== null && t.calleeMs > t.callerWaitMs;
    summary = `${late ? `${caller} gives up on ${callee} before it answers` : `${possessive(caller)} calls to ${callee} time out`}: ${errText}, the failed calls ending at ${fmtMs(t.callerWaitMs)}${t.reason === 'message' ? ' with a time-out error' : ' (a client time-out)'}`
      + (t.calleeMs === null ? '.' : late ? ` while ${possessive(callee)} own requests in the same traces take ${fmtMs(t.calleeMs)}.` : ` although ${possessive(callee)} own requests in the same traces take only ${fmtMs(t.calleeMs)} (the time is lost between them: network, queues, connection pool).`);
    if (t.reason === 'message' && t.otherMessage && t.timedOut < 0.9 * sample.failed) summary += ` The other failures mostly answer "${t.otherMessage}" (${sample.failed - t.timedOut} of ${sample.failed} sampled).`;
    figures.caller_wait_ms = t.callerWaitMs;
    figures.callee_duration_ms = t.calleeMs;
    nextStep = `Find why ${callee} takes ${fmtMs(t.calleeMs ?? t.callerWaitMs)} (its slowest operations, its own dependencies); ${possessive(caller)} time-out of ${fmtMs(t.callerWaitMs)} only shows it.`;
  } else if (sample?.topMessage) {
    summary += ` Most common error: "${sample.topMessage}".`;
  }
  let score = f.score;
  let role: Evidence['role'] = 'cause';
  const over = await endedBeforeOnset(ctx, f);
  if (over) {
    score *= ENDED_WEIGHT;
    summary += ` It had ended before the onset: ${over.calls} calls from ${fmtClock(over.fromMs)} on, ${fmtPct(over.errorRate)} failing, p95 ${fmtMs(over.p95Ms)}.`;
    Object.assign(figures, { recent_calls: over.calls, recent_error_rate: round(over.errorRate, 4), recent_p95_ms: over.p95Ms });
  }
  const own = f.slow && !f.failing && kind === 'service' ? await callerSideSlowness(ctx, callee, base?.p95_ms ?? null, win.p95_ms) : null;
  if (own) {
    score *= CALLER_SIDE_WEIGHT;
    summary += ` ${possessive(callee)} own requests stay at p95 ${fmtMs(own.window)} (baseline ${fmtMs(own.baseline)}): the time is lost on ${possessive(caller)} side (a busy process, the network, a connection pool), not in ${callee}.`;
    Object.assign(figures, { callee_own_p95_ms: own.window, callee_own_baseline_p95_ms: own.baseline });
    nextStep = `Look at ${caller} itself (its CPU and event loop, its connection pool to ${callee}) before ${callee}.`;
  }
  if (ctx.scope.services.includes(callee)) {
    // The incident's own service, seen from its callers: that it answers badly is the incident, not its cause.
    role = 'symptom';
    score *= 0.6;
  }
  if (ec.deeper.length) {
    // The callee fails because of its own dependency: that one is the likelier cause.
    score *= 0.7;
    summary += ` ${callee} itself is failing to reach ${ec.deeper.join(', ')}.`;
  }
  // Its internals (statements, resources, changes) are the other detectors' to name: the more precise cause.
  if ((ec.baseReqs.get(callee) ?? 0) > 0 || (ec.lateReqs.get(callee) ?? 0) > 0) score *= INSTRUMENTED_WEIGHT;
  if (ec.changed) {
    const { component: changedComponent } = changeCulprit(ec.changed);
    score *= 0.75;
    summary += ` ${changedComponent} (${ec.changed.kind}) took effect ${Math.max(0, Math.round((ctx.scope.onsetMs - ec.changed.at) / 60_000))} min before the onset.`;
    figures.explained_by = changedComponent;
  }
  return { detector: 'dependencies', category: 'dependency', component: callee, services, role, score: round(score), summary, onsetMs, figures, links, nextStep };
}

/**
 * Calls per trace from each caller to each `peer.service` callee, averaged over the traces that make such
 * calls: the fan-out of one request, not diluted by the caller's requests that never call the callee.
 */
async function callsPerTrace(ctx: DetectorContext, w: TimeWindow): Promise<Map<string, number>> {
  const res = await ctx.queries.search(
    'from spans kind=client peer.service=* | stats count() as calls by service.name, peer.service, trace_id | stats avg(calls) as per_trace by service.name, peer.service',
    { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 10_000, explainEmpty: false },
  );
  return new Map((res.rows as Record<string, unknown>[]).map((r) => [key(String(r['service.name']), String(r['peer.service'])), num(r.per_trace) ?? 0]));
}

/** Fan-out findings: calls per caller request grown several-fold. */
async function fanOutEvidence(ctx: DetectorContext, edges: EdgeFigures[], baseReqs: Map<string, number>, winReqs: Map<string, number>): Promise<Evidence[]> {
  const out: Evidence[] = [];
  const { onsetMs, window } = ctx.scope;
  const [basePer, winPer] = await Promise.all([callsPerTrace(ctx, ctx.scope.baseline), callsPerTrace(ctx, { fromMs: Math.min(Math.max(onsetMs, window.fromMs), window.toMs - 1), toMs: window.toMs })]);
  for (const e of edges) {
    const br = baseReqs.get(e.caller) ?? 0;
    const wr = winReqs.get(e.caller) ?? 0;
    if (!e.base || br < MIN_CALLS || wr < MIN_CALLS) continue;
    // Per trace when the calls name their peer; else per request of the caller (diluted by requests that make none).
    const k = key(e.caller, e.callee);
    const perTrace = basePer.has(k) && winPer.has(k);
    const before = perTrace ? basePer.get(k)! : e.base.calls / br;
    const after = perTrace ? winPer.get(k)! : e.win.calls / wr;
    if (!(after >= 3 * before && after - before >= 1.5)) continue;
    if (ctx.signal.aborted) break;
    const operation = await fanOutOperation(ctx, e);
    const changes = await ctx.changes({ fromMs: ctx.scope.onsetMs - CHANGE_LOOKBACK_MS, toMs: ctx.scope.window.toMs, services: [e.caller] });
    const explaining = changes.find((c) => EXPLAINING_KINDS.includes(c.kind));
    const culprit = explaining ? changeCulprit(explaining) : { category: 'code' as const, component: `${e.caller} ${operation ?? 'requests'}` };
    const growth = after / Math.max(before, 1e-9);
    out.push({
      detector: 'dependencies',
      category: culprit.category,
      component: culprit.component,
      services: [e.caller, e.callee],
      role: 'cause',
      score: round(clamp(0.35 + 0.15 * Math.log2(growth)) * (0.6 + 0.4 * volumeFactor(e.win.calls, 50))),
      summary: `${e.caller}${operation ? ` ${operation}` : ''} now calls ${e.callee} ${round(after, 1)} times per request (baseline ${round(before, 1)}, ${round(growth, 1)}×)`
        + (explaining ? `, since ${changeCulprit(explaining).component} (${explaining.kind}).` : '.'),
      figures: { baseline_calls_per_request: round(before, 2), window_calls_per_request: round(after, 2), growth: round(growth, 1), operation },
      links: [searchLink(`calls to ${e.callee} per trace`, `${callsQuery(e.caller, e.callee, e.kind)} | stats count() as calls by trace_id | sort -calls`, ctx.scope.window)],
      nextStep: `Look for a loop or a lost cache in ${e.caller}${operation ? ` ${operation}` : ''} (one trace shows the repeated calls)${explaining ? `, introduced by ${changeCulprit(explaining).component}` : ''}.`,
    });
  }
  return out;
}

/** The caller operation whose traces make the most calls to the callee. */
async function fanOutOperation(ctx: DetectorContext, e: EdgeFigures): Promise<string | null> {
  const w = { fromNs: ns(ctx.scope.window.fromMs), toNs: ns(ctx.scope.window.toMs), explainEmpty: false };
  const top = await ctx.queries.search(`${callsQuery(e.caller, e.callee, e.kind)} | stats count() as calls by trace_id | sort -calls | head 20`, { ...w, limit: 20 });
  const ids = (top.rows as Record<string, unknown>[]).map((r) => String(r.trace_id)).filter(Boolean);
  if (!ids.length) return null;
  const ops = await ctx.queries.search(
    `from spans kind=server service.name=${quote(e.caller)} trace_id IN (${ids.map(quote).join(', ')}) | stats count() as n by name, http.request.method, http.route | sort -n | head 1`,
    { ...w, limit: 1 },
  );
  const r = ops.rows[0] as Record<string, unknown> | undefined;
  if (!r) return null;
  const route = r['http.route'] ? String(r['http.route']) : '';
  return route ? `${r['http.request.method'] ? `${String(r['http.request.method'])} ` : ''}${route}` : String(r.name);
}

/** One evidence per culprit: the strongest, naming the other callers that saw it too. */
function mergeByCallee(list: Evidence[]): Evidence[] {
  const by = new Map<string, Evidence>();
  for (const e of [...list].sort((a, b) => b.score - a.score)) {
    const k = key(e.category, e.component);
    const had = by.get(k);
    if (!had) {
      by.set(k, e);
      continue;
    }
    const others = e.services.filter((s) => !had.services.includes(s));
    if (!others.length) continue;
    by.set(k, { ...had, services: [...had.services, ...others], summary: `${had.summary} Also seen from ${others.join(', ')}.`, score: round(Math.min(0.97, had.score + 0.03)), links: [...had.links, ...e.links.slice(0, 1)] });
  }
  return [...by.values()];
}
