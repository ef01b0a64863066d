/**
 * Connection pools at their limit, requests waiting for a connection, and failing connects (issue 14 §4).
 *
 * Two kinds of signal, merged per service and pool:
 * - the semantic-convention pool metrics (`db.client.connection.count` by `db.client.connection.state`
 *   used|idle, `db.client.connection.max`, `db.client.connection.pending_requests`, per
 *   `db.client.connection.pool.name`; the older `db.client.connections.*` names with `state`/`pool.name`
 *   too): a pool is exhausted when its used connections reach its maximum in a sustained part of the
 *   window, or requests wait for a connection where the baseline had none;
 * - failed spans and WARN+ logs whose message or `error.type` speaks of connection acquisition (pool,
 *   acquire, "ResourceRequest timed out", "too many connections", …; resets and refusals only on database
 *   spans), grown against the baseline.
 * The component is `<service> connection pool <pool name>` (without a name: `<service> connection pool`).
 */
import { metricAnswer } from '../../query/views/metric-answer.ts';
import type { MetricSeries } from '../../api/contract.ts';
import { metricLink, quote, searchLink } from '../links.ts';
import { downstreamOf } from '../topology.ts';
import type { Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';
import { mapLimit } from '../patient-queries.ts';

const NAME = 'db-pool';
const BUCKET_MS = 60_000;
// Most services whose pools are read (each costs three metric queries).
const MAX_SERVICES = 12;

/** One generation of the pool metric names with its attribute keys. */
interface PoolNames {
  count: string;
  max: string;
  pending: string;
  /** Histogram of the time spent waiting for a connection. */
  wait: string;
  state: string;
  pool: string;
}
const CURRENT: PoolNames = {
  count: 'db.client.connection.count',
  max: 'db.client.connection.max',
  pending: 'db.client.connection.pending_requests',
  wait: 'db.client.connection.wait_time',
  state: 'db.client.connection.state',
  pool: 'db.client.connection.pool.name',
};
// Semantic conventions before 1.26 (still what several instrumentations send).
const LEGACY: PoolNames = { count: 'db.client.connections.usage', max: 'db.client.connections.max', pending: 'db.client.connections.pending_requests', wait: 'db.client.connections.wait_time', state: 'state', pool: 'pool.name' };

/** Words of a failed connection acquisition, in any message. */
export const ACQUIRE_WORDS = [
  'pool',
  'acquire',
  'timed out waiting',
  'resourcerequest timed out',
  'too many connections',
  'remaining connection slots',
  'too many clients',
  'could not obtain connection',
  'connection is not available',
];
/** Words of a lost or refused connection: only on database spans (on others they concern HTTP peers). */
export const CONNECT_WORDS = ['econnreset', 'econnrefused', 'connection reset', 'connection refused', 'connection terminated', 'server closed the connection'];

const ns = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;
const minutes = (w: TimeWindow): number => Math.max(1 / 60, (w.toMs - w.fromMs) / 60_000);
const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const formatMs = (v: number): string => (v >= 1000 ? `${round(v / 1000, 1)} s` : `${Math.round(v)} ms`);
const anyOf = (field: string, words: readonly string[]) => words.map((w) => `contains(${field}, ${quote(w)})`).join(' or ');

/** `service.name IN (…)` for a search, or nothing when every service is in scope. */
function serviceFilter(services: string[] | null): string {
  return services ? ` service.name IN (${services.map(quote).join(', ')})` : '';
}

/** The query-language text finding failed acquisitions in spans. */
export function failedSpansQuery(services: string[] | null): string {
  return (
    `from spans status=error${serviceFilter(services)} | eval m = concat(coalesce(status.message, ""), " ", coalesce(error.type, ""))` +
    ` | where ${anyOf('m', ACQUIRE_WORDS)} or (coalesce(db.system, "") != "" and (${anyOf('m', CONNECT_WORDS)}))`
  );
}

/** The query-language text finding failed acquisitions in logs. */
export function failedLogsQuery(services: string[] | null): string {
  return `severity>=WARN${serviceFilter(services)} | eval m = concat(body, " ", coalesce(exception.message, ""), " ", coalesce(error.type, "")) | where ${anyOf('m', ACQUIRE_WORDS)}`;
}

/** Failed acquisitions per service over a window, with the commonest messages. */
interface Failures {
  count: number;
  messages: { text: string; n: number }[];
}

async function failures(ctx: DetectorContext, source: 'spans' | 'logs', services: string[] | null, w: TimeWindow): Promise<Map<string, Failures>> {
  const [text, message] = source === 'spans' ? [failedSpansQuery(services), 'status.message'] : [failedLogsQuery(services), 'body'];
  const res = await ctx.queries.search(`${text} | stats count() as n by service.name, ${message} | sort -n`, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 5000, explainEmpty: false });
  const out = new Map<string, Failures>();
  for (const r of res.rows) {
    const s = String(r['service.name']);
    const f = out.get(s) ?? { count: 0, messages: [] };
    out.set(s, f);
    const n = Number(r.n) || 0;
    f.count += n;
    if (f.messages.length < 3) f.messages.push({ text: String(r[message] ?? '').trim(), n });
  }
  return out;
}

/** Per-pool state over the baseline and the window, from the metrics. */
interface PoolState {
  service: string;
  pool: string;
  limit: number | null;
  winUsedMax: number;
  winSaturatedShare: number;
  baseSaturatedShare: number;
  winPendingMax: number;
  basePendingMax: number;
  winPendingMinutes: number;
  /** Highest per-minute p95 of the wait for a connection (ms), when the pool reports it. */
  winWaitP95Ms: number | null;
  baseWaitP95Ms: number | null;
  onsetMs?: number;
  names: PoolNames;
}

/** Values of a series split into baseline and window points (time, value). */
function split(series: MetricSeries | undefined, scope: { window: TimeWindow; baseline: TimeWindow }) {
  const pts = (series?.points ?? []).map((p) => ({ t: Date.parse(p.time), v: p.value })).filter((p): p is { t: number; v: number } => p.v !== null && Number.isFinite(p.t));
  const inW = (p: { t: number }, w: TimeWindow) => p.t >= w.fromMs && p.t < w.toMs;
  return { base: pts.filter((p) => inW(p, scope.baseline)), win: pts.filter((p) => inW(p, scope.window)) };
}

const byGroup = (series: MetricSeries[]) => new Map(series.map((s) => [s.group ?? '', s]));

/** Reads the pools of one service and judges each against its baseline. */
async function poolsOf(ctx: DetectorContext, service: string, names: PoolNames): Promise<PoolState[]> {
  const { baseline, window } = ctx.scope;
  const common = { fromNs: ns(baseline.fromMs), toNs: ns(window.toMs), service, groupBy: names.pool, bucketNs: ns(BUCKET_MS) };
  const [used, max, pending, wait] = await Promise.all([
    metricAnswer(ctx.queries, { ...common, name: names.count, filters: [{ key: names.state, value: 'used' }], agg: 'max' }),
    metricAnswer(ctx.queries, { ...common, name: names.max, filters: [], agg: 'max' }),
    metricAnswer(ctx.queries, { ...common, name: names.pending, filters: [], agg: 'max' }),
    metricAnswer(ctx.queries, { ...common, name: names.wait, filters: [], quantiles: [0.95] }),
  ]);
  const waitBy = byGroup(wait.series);
  // Wait times in milliseconds whatever unit the histogram came in (semantic conventions: seconds).
  const toMs = wait.unit === 'ms' ? 1 : wait.unit === 'us' ? 1e-3 : 1000;
  const maxBy = byGroup(max.series);
  const pendingBy = byGroup(pending.series);
  const out: PoolState[] = [];
  const usedBy = byGroup(used.series);
  for (const pool of new Set([...usedBy.keys(), ...waitBy.keys()])) {
    const u = split(usedBy.get(pool), ctx.scope);
    const wt = split(waitBy.get(pool), ctx.scope);
    const highest = (pts: { v: number }[]) => (pts.length ? Math.max(...pts.map((x) => x.v)) * toMs : null);
    const m = split(maxBy.get(pool) ?? (max.series.length === 1 ? max.series[0] : undefined), ctx.scope);
    const p = split(pendingBy.get(pool) ?? (pending.series.length === 1 && used.series.length === 1 ? pending.series[0] : undefined), ctx.scope);
    const limits = [...m.base, ...m.win].map((x) => x.v);
    const limit = limits.length ? Math.max(...limits) : null;
    const limitAt = (t: number) => m.win.find((x) => x.t === t)?.v ?? m.base.find((x) => x.t === t)?.v ?? limit;
    const saturated = (pts: { t: number; v: number }[]) => pts.filter((x) => limit !== null && x.v > 0 && x.v >= (limitAt(x.t) ?? Infinity));
    const winSat = saturated(u.win);
    const pendingWin = p.win.filter((x) => x.v > 0);
    const baseWait = highest(wt.base);
    const waitFirst = wt.win.find((x) => x.v * toMs >= 100 && x.v * toMs >= 5 * Math.max(baseWait ?? 0, 1))?.t;
    const firsts = [winSat[0]?.t, pendingWin[0]?.t, waitFirst].filter((t): t is number => t !== undefined);
    out.push({
      service,
      pool,
      limit,
      winUsedMax: u.win.reduce((a, x) => Math.max(a, x.v), 0),
      winSaturatedShare: u.win.length ? winSat.length / u.win.length : 0,
      baseSaturatedShare: u.base.length ? saturated(u.base).length / u.base.length : 0,
      winPendingMax: p.win.reduce((a, x) => Math.max(a, x.v), 0),
      basePendingMax: p.base.reduce((a, x) => Math.max(a, x.v), 0),
      winPendingMinutes: pendingWin.length,
      winWaitP95Ms: highest(wt.win),
      baseWaitP95Ms: baseWait,
      onsetMs: firsts.length ? Math.min(...firsts) : undefined,
      names,
    });
  }
  return out;
}

/** Whether the wait for a connection grew past 100 ms and 5× the baseline's. */
function waitGrew(p: PoolState): boolean {
  return p.winWaitP95Ms !== null && p.winWaitP95Ms >= 100 && p.winWaitP95Ms >= 5 * Math.max(p.baseWaitP95Ms ?? 0, 1);
}

/** Services with pool metrics in the range, and which generation of names they send. */
async function poolServices(ctx: DetectorContext, scoped: Set<string> | null): Promise<{ service: string; names: PoolNames }[]> {
  const { baseline, window } = ctx.scope;
  const out: { service: string; names: PoolNames }[] = [];
  for (const names of [CURRENT, LEGACY]) {
    const a = await metricAnswer(ctx.queries, { fromNs: ns(baseline.fromMs), toNs: ns(window.toMs), name: names.count, filters: [], groupBy: 'service.name', bucketNs: ns(window.toMs - baseline.fromMs + BUCKET_MS), agg: 'max' });
    for (const s of a.series) if (s.group && (!scoped || scoped.has(s.group)) && !out.some((o) => o.service === s.group)) out.push({ service: s.group, names });
    if (ctx.signal.aborted) break;
  }
  return out.slice(0, MAX_SERVICES);
}

/** Which pool a failure message names: one of the service's pools it mentions, its only pool, or a name after "pool". */
export function poolOfMessage(text: string, known: readonly string[]): string | undefined {
  const lower = text.toLowerCase();
  const mentioned = known.filter((p) => p && lower.includes(p.toLowerCase()));
  if (mentioned.length === 1) return mentioned[0];
  if (known.length === 1 && known[0]) return known[0];
  const m = /\bpool[\s:=]+["'`]?([A-Za-z0-9_][\w.\-:/]*[\w])["'`]?/i.exec(text);
  const candidate = m?.[1];
  return candidate && !/^(exhausted|is|was|has|timeout|timed|full|closed|error|size|max|limit|of|for|with)$/i.test(candidate) ? candidate : undefined;
}

/** The component naming a service's pool. */
export function poolComponent(service: string, pool: string | undefined): string {
  return pool ? `${service} connection pool ${pool}` : `${service} connection pool`;
}

/** The `db-pool` detector. */
export const dbPoolDetector: Detector = {
  name: NAME,
  description: 'Connection pools at their limit, waiting requests and failing connects',
  async run(given) {
    if (given.signal.aborted) return [];
    const ctx = given;
    const { window: w, baseline: bw } = ctx.scope;
    let scoped: Set<string> | null = null;
    if (ctx.scope.services.length) {
      // A pool of a service the incident's services call exhausts for them too.
      const edges = await ctx.topology();
      scoped = new Set(ctx.scope.services);
      for (const s of ctx.scope.services) for (const d of downstreamOf(s, edges)) scoped.add(d);
    }
    const list = scoped ? [...scoped] : null;
    const [services, spanWin, spanBase, logWin, logBase] = await Promise.all([
      poolServices(ctx, scoped),
      failures(ctx, 'spans', list, w),
      failures(ctx, 'spans', list, bw),
      failures(ctx, 'logs', list, w),
      failures(ctx, 'logs', list, bw),
    ]);
    if (ctx.signal.aborted) return [];
    const pools = (await mapLimit(services, 2, (s) => poolsOf(ctx, s.service, s.names))).flat();
    if (ctx.signal.aborted) return [];

    // Evidence is built per (service, pool); failures attach to the pool they name.
    const found = new Map<string, { service: string; pool?: string; state?: PoolState; failures?: { n: number; base: number; sample: string; source: 'spans' | 'logs' } }>();
    const key = (s: string, p?: string) => `${s}\u0000${p ?? ''}`;
    for (const p of pools) {
      const saturatedNew = p.winSaturatedShare >= 0.2 && p.winSaturatedShare - p.baseSaturatedShare >= 0.2;
      const waitingNew = (p.winPendingMinutes >= 2 && p.basePendingMax === 0) || waitGrew(p);
      if (saturatedNew || waitingNew) found.set(key(p.service, p.pool || undefined), { service: p.service, pool: p.pool || undefined, state: p });
    }
    for (const [source, win, base] of [['spans', spanWin, spanBase], ['logs', logWin, logBase]] as const) {
      for (const [service, f] of win) {
        const baseCount = base.get(service)?.count ?? 0;
        const rateWin = f.count / minutes(w);
        const rateBase = baseCount / minutes(bw);
        if (f.count < 5 || rateWin < 5 * rateBase) continue;
        const known = pools.filter((p) => p.service === service).map((p) => p.pool);
        const sample = f.messages[0]?.text ?? '';
        const pool = poolOfMessage(f.messages.map((m) => m.text).join(' '), known);
        const k = key(service, pool);
        const entry = found.get(k) ?? { service, pool, state: pools.find((p) => p.service === service && p.pool === pool) };
        // Spans and logs of one failure are the same events: keep the larger count.
        if (!entry.failures || entry.failures.n < f.count) entry.failures = { n: f.count, base: baseCount, sample, source };
        found.set(k, entry);
      }
    }

    const out: Evidence[] = [];
    for (const { service, pool, state, failures: fail } of found.values()) {
      const parts: string[] = [];
      const figures: Evidence['figures'] = { pool: pool ?? null };
      const links: Evidence['links'] = [];
      let metricScore = 0;
      if (state && (state.winSaturatedShare >= 0.2 || state.winPendingMinutes >= 2 || waitGrew(state))) {
        const pieces = [
          state.winSaturatedShare > 0
            ? `at its limit (${state.winUsedMax}/${state.limit} used) in ${Math.round(state.winSaturatedShare * 100)}% of the window's minutes (baseline ${Math.round(state.baseSaturatedShare * 100)}%)`
            : state.winUsedMax > 0
              ? `up to ${state.winUsedMax}${state.limit !== null ? `/${state.limit}` : ''} connections used`
              : '',
          state.winPendingMax > 0 ? `up to ${state.winPendingMax} requests waiting for a connection (baseline ${state.basePendingMax || 'none'})` : '',
          waitGrew(state) ? `p95 wait for a connection ${formatMs(state.baseWaitP95Ms ?? 0)} → ${formatMs(state.winWaitP95Ms ?? 0)}` : '',
        ].filter(Boolean);
        parts.push(`${pieces.join('; ')}${state.onsetMs !== undefined ? `, from ${clock(state.onsetMs)} UTC` : ''}`);
        metricScore = 0.5 + 0.3 * state.winSaturatedShare + ((state.winPendingMinutes >= 2 && state.basePendingMax === 0) || waitGrew(state) ? 0.1 : 0);
        Object.assign(figures, {
          limit: state.limit,
          window_used_max: state.winUsedMax,
          window_saturated_share: round(state.winSaturatedShare),
          baseline_saturated_share: round(state.baseSaturatedShare),
          window_pending_max: state.winPendingMax,
          baseline_pending_max: state.basePendingMax,
          window_wait_p95_ms: state.winWaitP95Ms === null ? null : round(state.winWaitP95Ms, 1),
          baseline_wait_p95_ms: state.baseWaitP95Ms === null ? null : round(state.baseWaitP95Ms, 1),
        });
        links.push(metricLink('Connections used per pool', { name: state.names.count, service, groupBy: state.names.pool, agg: 'max' }, { fromMs: bw.fromMs, toMs: w.toMs }));
        if (waitGrew(state)) links.push(metricLink('Wait for a connection (p95)', { name: state.names.wait, service, groupBy: state.names.pool }, { fromMs: bw.fromMs, toMs: w.toMs }));
        if (state.winPendingMax > 0) links.push(metricLink('Requests waiting for a connection', { name: state.names.pending, service, groupBy: state.names.pool, agg: 'max' }, { fromMs: bw.fromMs, toMs: w.toMs }));
      }
      let failScore = 0;
      if (fail) {
        parts.push(`${fail.n} failed or lost database connections in the window (baseline ${fail.base}), e.g. "${fail.sample.slice(0, 140)}"`);
        failScore = 0.35 + 0.35 * clamp01(Math.log10(fail.n) / 2.5);
        Object.assign(figures, { window_failures: fail.n, baseline_failures: fail.base, failure_sample: fail.sample.slice(0, 300) });
        links.push(searchLink(`Failed connection acquisitions (${fail.source})`, fail.source === 'spans' ? failedSpansQuery([service]) : failedLogsQuery([service]), w));
      }
      if (!parts.length) continue;
      const score = 1 - (1 - metricScore) * (1 - failScore);
      out.push({
        detector: NAME,
        category: 'database',
        component: poolComponent(service, pool),
        services: [service],
        role: 'cause',
        score: round(Math.min(0.95, score), 3),
        summary: `Connection pool ${pool ? `${pool} ` : ''}of ${service}: ${parts.join('; ')}.`,
        ...(state?.onsetMs !== undefined ? { onsetMs: state.onsetMs } : {}),
        figures,
        links,
        nextStep: `Look for connections ${service} checks out and never returns (leaks) or that the database drops, and at the pool size against the database's connection limit; resetting the pool or restarting ${service} frees them for now.`,
      });
    }
    return out.sort((a, b) => b.score - a.score);
  },
};
