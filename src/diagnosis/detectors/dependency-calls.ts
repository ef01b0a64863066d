/**
 * A close look at one failing caller → callee edge for the `dependencies` detector: a small sample of the
 * failed client spans (their messages, durations and traces), when the failures began, and — for calls
 * that look timed out — how long the callee's own server spans of the same traces took. Small reads only:
 * samples with `head`, per-minute counts with `timechart`.
 */
import { quote } from '../links.ts';
import { firstSustained, median, ns, num, timeMs, type Point } from '../stats.ts';
import type { DetectorContext } from '../types.ts';
import type { EdgeFigures } from './dependencies.ts';

/** How many failed calls are sampled. */
const SAMPLE = 100;

/** What the failed calls of an edge look like. */
export interface CallSample {
  failed: number;
  /** The most common error message (status message or `error.type`). */
  topMessage: string | null;
  /** Failed calls whose message reads like a refused or broken connection. */
  connectionErrors: number;
  exampleTrace: string | null;
  /** Start of the first minute from which the calls kept failing, when it can be told. */
  firstFailureMs: number | null;
  /** Set when the failures look like the caller giving up (a time-out message, or durations clustered at one value). */
  timeout: {
    callerWaitMs: number;
    calleeMs: number | null;
    reason: 'message' | 'cluster';
    /** Sampled failures that say they timed out. */
    timedOut: number;
    /** The most common message of the other failures. */
    otherMessage: string | null;
  } | null;
}

const CONNECTION = /refused|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|unreachable|no route|connection (?:reset|closed|error|failed)|failed to connect|could not connect|unavailable/i;
const TIMEOUT = /time[ds]?[ -]?out|deadline exceeded|ETIMEDOUT|did not answer within/i;
const FAILED = '(status=error OR http.response.status_code>=500)';
/** The same, as a 0/1 column `failed` (to count the failed share of calls). */
const FAILED_EVAL = 'eval failed = if(status = "Error" or coalesce(http.response.status_code, 0) >= 500, 1, 0)';

/** The search text of a caller's client spans to a callee (by `peer.service`, or by host as the external-calls view names it). */
export function callsQuery(caller: string, callee: string, kind: string, extra = ''): string {
  const target = kind === 'host' ? `(server.address=${quote(callee)} OR net.peer.name=${quote(callee)} OR http.host=${quote(callee)})` : `peer.service=${quote(callee)}`;
  return `from spans kind=client service.name=${quote(caller)} ${target}${extra}`;
}

const edgeSearch = (e: EdgeFigures, extra = ''): string => callsQuery(e.caller, e.callee, e.kind, extra);

/** Samples the failed calls of an edge over the incident window and reads what they say. */
export async function sampleFailedCalls(ctx: DetectorContext, e: EdgeFigures, baselineP95Ms: number | null): Promise<CallSample> {
  const { window } = ctx.scope;
  const range = { fromNs: ns(window.fromMs), toNs: ns(window.toMs), explainEmpty: false };
  const fields = ' | fields timestamp, trace_id, span_id, duration_ms, status.message, error.type';
  let rows = (await ctx.queries.search(`${edgeSearch(e, ` ${FAILED}`)}${fields} | head ${SAMPLE}`, { ...range, limit: SAMPLE })).rows as Record<string, unknown>[];
  // The view also names a callee by the server span a call caused (no peer.service): read the caller's failed calls then.
  if (!rows.length && e.kind === 'service') {
    rows = (await ctx.queries.search(`from spans kind=client service.name=${quote(e.caller)} ${FAILED} NOT db.system=*${fields} | head ${SAMPLE}`, { ...range, limit: SAMPLE })).rows as Record<string, unknown>[];
  }
  const messages = new Map<string, number>();
  let connectionErrors = 0;
  let timeoutMessages = 0;
  const others = new Map<string, number>();
  for (const r of rows) {
    const m = String(r['status.message'] || r['error.type'] || '').slice(0, 200);
    if (!m) continue;
    messages.set(m, (messages.get(m) ?? 0) + 1);
    // `error.type` says it in a word (`timeout`) when the message does not (`did not answer within 5000 ms`).
    const both = `${m} ${String(r['error.type'] ?? '')}`;
    if (CONNECTION.test(both)) connectionErrors++;
    if (TIMEOUT.test(both)) timeoutMessages++;
    else others.set(m, (others.get(m) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const topMessage = top(messages);
  const durations = rows.map((r) => num(r.duration_ms)).filter((d): d is number => d !== null);
  const wait = median(durations);
  const clustered = wait !== null && durations.length >= 5 && durations.filter((d) => Math.abs(d - wait) <= Math.max(20, wait * 0.05)).length / durations.length >= 0.6;
  const longWait = wait !== null && (baselineP95Ms === null || wait >= 1.5 * baselineP95Ms);
  const reason = rows.length && timeoutMessages / rows.length >= 0.5 ? 'message' : clustered && longWait && connectionErrors < rows.length / 2 ? 'cluster' : null;
  const calleeMs = reason && e.kind === 'service' ? await calleeDuration(ctx, e, rows) : null;
  // Durations clustered at one value are a time-out only if the callee did not answer within them (a callee
  // that answered in time with an error, itself waiting on something, also makes such a cluster).
  // A callee whose own span ended when the call did answered with the error itself (its own time-out
  // passed on): that is no caller giving up.
  const answeredThen = calleeMs !== null && calleeMs >= wait! * 0.9 && calleeMs <= wait! * 1.05;
  const gaveUp = !answeredThen && (reason === 'message' || calleeMs === null || calleeMs > wait! * 1.05);
  const timeout = reason && wait !== null && gaveUp ? { callerWaitMs: wait, calleeMs, reason, timedOut: timeoutMessages, otherMessage: top(others) } : null;
  return {
    failed: rows.length,
    topMessage,
    connectionErrors,
    exampleTrace: rows[0]?.trace_id ? String(rows[0].trace_id) : null,
    firstFailureMs: await failureOnset(ctx, e),
    timeout,
  } as CallSample;
}

/** Median duration of the callee's server spans that the sampled calls caused. */
async function calleeDuration(ctx: DetectorContext, e: EdgeFigures, calls: Record<string, unknown>[]): Promise<number | null> {
  const sample = calls.slice(0, 40);
  const spanIds = new Set(sample.map((r) => String(r.span_id)));
  const traces = [...new Set(sample.map((r) => String(r.trace_id)))];
  if (!traces.length) return null;
  const { window } = ctx.scope;
  // The callee's span may end well after the window if it kept working after the caller left: read an extra minute.
  const res = await ctx.queries.search(
    `from spans kind=server service.name=${quote(e.callee)} trace_id IN (${traces.map(quote).join(', ')}) | fields parent_span_id, duration_ms | head 500`,
    { fromNs: ns(window.fromMs - 60_000), toNs: ns(window.toMs + 60_000), limit: 500, explainEmpty: false },
  );
  const durations = (res.rows as Record<string, unknown>[]).filter((r) => spanIds.has(String(r.parent_span_id))).map((r) => num(r.duration_ms)).filter((d): d is number => d !== null);
  return median(durations);
}

/** The first minute from which the edge's error share stayed clearly up (two minutes running). */
async function failureOnset(ctx: DetectorContext, e: EdgeFigures): Promise<number | null> {
  const { window } = ctx.scope;
  const res = await ctx.queries.search(
    `${edgeSearch(e)} | ${FAILED_EVAL} | timechart span=1m count() as calls sum(failed) as errors`,
    { fromNs: ns(window.fromMs), toNs: ns(window.toMs), limit: 1000, explainEmpty: false },
  );
  const points: Point[] = [];
  for (const r of res.rows as Record<string, unknown>[]) {
    const t = timeMs(r._time);
    const calls = num(r.calls) ?? 0;
    if (t !== null && calls > 0) points.push({ t, v: (num(r.errors) ?? 0) / calls });
  }
  const base = e.base && e.base.calls ? e.base.errors / e.base.calls : 0;
  return firstSustained(points.sort((a, b) => a.t - b.t), (v) => v >= Math.max(0.05, 3 * base + 0.02));
}

/** How an edge's calls fared over `[fromMs, toMs)`: how many, the failed share and the p95. */
export async function recentCalls(ctx: DetectorContext, e: EdgeFigures, fromMs: number, toMs: number): Promise<{ calls: number; errorRate: number; p95Ms: number | null }> {
  const res = await ctx.queries.search(
    `${edgeSearch(e)} | ${FAILED_EVAL} | stats count() as calls sum(failed) as errors p95(duration_ms) as p95`,
    { fromNs: ns(fromMs), toNs: ns(toMs), limit: 1, explainEmpty: false },
  );
  const r = (res.rows[0] ?? {}) as Record<string, unknown>;
  const calls = num(r.calls) ?? 0;
  return { calls, errorRate: calls ? (num(r.errors) ?? 0) / calls : 0, p95Ms: num(r.p95) };
}
