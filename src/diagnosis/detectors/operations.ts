/**
 * Operation latency and error deltas against the baseline (issue 14 §4): per service and operation
 * (server and consumer spans by `service.name`, `name`), request rate, p50/p95, the 5xx share and the 4xx share —
 * apart, since a wave of 4xx is the callers' problem and a wave of 5xx the service's.
 *
 * An operation is reported (`code` symptom, component `<service> <operation>`) only when the change passes
 * a ratio, an absolute floor and a volume floor together, so a quiet operation's noise stays silent. Its
 * onset is the first minute (`timechart span=1m`) that left the baseline's robust band and stayed out.
 * A service whose request rate is ≥ 3× its baseline while it got slower is a `capacity` cause (a surge).
 */
import { operationTerm, affectedServices, serviceTerm } from './affected.ts';
import { searchRows } from './search.ts';
import { quote, searchLink, serviceLink } from '../links.ts';
import { aboveBand, band, clamp, firstSustained, fmtClock, fmtMs, fmtPct, num, proportionZ, round, timeMs, volumeFactor, type Point } from '../stats.ts';
import type { Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';

/** The spans that are requests a service serves: server spans, and consumer spans of queue workers. */
const REQUESTS = 'kind IN (server, consumer)';
/** 5xx: an HTTP 5xx, or a span in error that is not a 4xx (RPC and non-HTTP servers). */
export const FIVE_XX = 'if(http.response.status_code >= 500 or (status = "Error" and coalesce(http.response.status_code, 0) < 400), 1, 0)';
/** 4xx: an HTTP 4xx answer. */
export const FOUR_XX = 'if(http.response.status_code >= 400 and http.response.status_code < 500, 1, 0)';

// Thresholds: every one must pass (ratio AND absolute AND volume).
const MIN_WINDOW_REQUESTS = 20;
const MIN_BASELINE_REQUESTS = 10;
const LATENCY_RATIO = 1.5;
const LATENCY_ABS_MS = 50;
const ERROR_SHARE_DELTA = { e5: 0.05, e4: 0.1 } as const;
const MIN_ERRORS = 5;
const MIN_Z = 3;
const SURGE_RATIO = 3;
const MAX_REPORTED = 12;
const ROW_LIMIT = 10_000;

/** One operation's figures over one period. */
interface OpFigures {
  service: string;
  operation: string;
  n: number;
  e5: number;
  e4: number;
  p50: number | null;
  p95: number | null;
}

/** What changed for one operation. */
interface OpDelta {
  w: OpFigures;
  b: OpFigures | undefined;
  latency: boolean;
  e5: boolean;
  e4: boolean;
  score: number;
}

const key = (service: string, operation: string) => `${service} ${operation}`;
const minutes = (w: TimeWindow) => Math.max(1, (w.toMs - w.fromMs) / 60_000);
const share = (x: number, n: number) => (n > 0 ? x / n : 0);

/** The `operations` detector. */
export const operationsDetector: Detector = {
  name: 'operations',
  description: 'Operation latency and error deltas against the baseline (4xx and 5xx apart)',
  async run(ctx) {
    const services = await affectedServices(ctx);
    if (ctx.signal.aborted) return [];
    const filter = serviceTerm(services);
    const perOp = `from spans ${REQUESTS} ${filter} | eval e5 = ${FIVE_XX}, e4 = ${FOUR_XX} | stats count() as n sum(e5) as e5 sum(e4) as e4 p50(duration_ms) as p50 p95(duration_ms) as p95`;
    const [bOps, wOps, bSvc, wSvc] = await Promise.all([
      figures(ctx, `${perOp} by service.name, name`, ctx.scope.baseline),
      figures(ctx, `${perOp} by service.name, name`, ctx.scope.window),
      figures(ctx, `${perOp} by service.name`, ctx.scope.baseline),
      figures(ctx, `${perOp} by service.name`, ctx.scope.window),
    ]);
    if (ctx.signal.aborted || wOps.length === 0) return [];

    const baseline = new Map(bOps.map((f) => [key(f.service, f.operation), f]));
    const deltas = wOps
      .map((w) => compare(w, baseline.get(key(w.service, w.operation))))
      .filter((d): d is OpDelta => d !== null)
      .sort((a, b) => b.score - a.score)
      .slice(0, MAX_REPORTED);
    const surges = surgesOf(ctx, bSvc, wSvc, new Set(deltas.filter((d) => d.latency).map((d) => d.w.service)));
    if (deltas.length === 0 && surges.length === 0) return [];

    const series = await minuteSeries(ctx, [...new Set([...deltas.map((d) => d.w.service), ...surges.map((s) => s.w.service)])]);
    const evidence = deltas.map((d) => operationEvidence(ctx, d, series.get(key(d.w.service, d.w.operation)) ?? []));
    for (const s of surges) evidence.push(surgeEvidence(ctx, s, series));
    return evidence;
  },
};

/** Reads a `stats … by service.name[, name]` answer into figures. */
async function figures(ctx: DetectorContext, text: string, w: TimeWindow): Promise<OpFigures[]> {
  const rows = await searchRows(ctx, text, w, ROW_LIMIT);
  return rows
    .filter((r) => typeof r['service.name'] === 'string')
    .map((r) => ({
      service: String(r['service.name']),
      operation: r.name === undefined || r.name === null ? '' : String(r.name),
      n: num(r.n) ?? 0,
      e5: num(r.e5) ?? 0,
      e4: num(r.e4) ?? 0,
      p50: num(r.p50),
      p95: num(r.p95),
    }));
}

/** Whether and how much an operation changed; null when nothing passes every threshold. */
function compare(w: OpFigures, b: OpFigures | undefined): OpDelta | null {
  if (w.n < MIN_WINDOW_REQUESTS) return null;
  const hasBaseline = b !== undefined && b.n >= MIN_BASELINE_REQUESTS;
  let latency = false;
  let latencyEffect = 0;
  if (hasBaseline && w.p95 !== null && b.p95 !== null && b.p95 > 0) {
    const r = w.p95 / b.p95;
    latency = r >= LATENCY_RATIO && w.p95 - b.p95 >= LATENCY_ABS_MS;
    if (latency) latencyEffect = clamp(Math.log2(r) / 3);
  }
  const errorDelta = (kind: 'e5' | 'e4'): number => {
    const x = w[kind];
    const sw = share(x, w.n);
    const sb = hasBaseline ? share(b[kind], b.n) : 0;
    const passes = x >= MIN_ERRORS && sw - sb >= ERROR_SHARE_DELTA[kind] && sw >= 2 * sb && (!hasBaseline || proportionZ(x, w.n, b[kind], b.n) >= MIN_Z);
    return passes ? sw - sb : 0;
  };
  const d5 = errorDelta('e5');
  const d4 = errorDelta('e4');
  if (!latency && d5 === 0 && d4 === 0) return null;
  // 4xx weigh less: they often mean callers send what the service (rightly) refuses.
  const effect = Math.max(latencyEffect, clamp(d5 / 0.5), 0.6 * clamp(d4 / 0.5));
  // A p95 over a few dozen requests moves by chance: latency needs more volume than errors to score.
  const volume = Math.max(latency ? volumeFactor(w.n, 50) : 0, volumeFactor(Math.max(w.e5, w.e4)));
  return { w, b: hasBaseline ? b : undefined, latency, e5: d5 > 0, e4: d4 > 0, score: round(clamp(0.25 + 0.6 * effect * volume, 0, 0.85), 2) };
}

/** Per-minute figures of one operation (or, keyed by service alone, of one service). */
interface Bucket {
  t: number;
  n: number;
  e5: number;
  e4: number;
  p95: number | null;
}

/** Per-minute series over baseline and window of every operation of the services, keyed `<service> <operation>` and `<service>`. */
async function minuteSeries(ctx: DetectorContext, services: string[]): Promise<Map<string, Bucket[]>> {
  const out = new Map<string, Bucket[]>();
  if (services.length === 0 || ctx.signal.aborted) return out;
  const text = `from spans ${REQUESTS} ${serviceTerm(services)} | eval op = concat(service.name, " ", name), e5 = ${FIVE_XX}, e4 = ${FOUR_XX} | timechart span=1m count() as n sum(e5) as e5 sum(e4) as e4 p95(duration_ms) as p95 by op`;
  const rows = await searchRows(ctx, text, { fromMs: ctx.scope.baseline.fromMs, toMs: ctx.scope.window.toMs }, ROW_LIMIT);
  for (const r of rows) {
    const t = timeMs(r._time);
    if (t === null || typeof r.op !== 'string') continue;
    const b: Bucket = { t, n: num(r.n) ?? 0, e5: num(r.e5) ?? 0, e4: num(r.e4) ?? 0, p95: num(r.p95) };
    out.set(r.op, [...(out.get(r.op) ?? []), b]);
    const svc = services.find((s) => r.op === s || (r.op as string).startsWith(`${s} `));
    if (svc !== undefined) {
      const list = out.get(svc) ?? [];
      const same = list.find((x) => x.t === t);
      if (same) (same.n += b.n), (same.e5 += b.e5), (same.e4 += b.e4);
      else list.push({ ...b, p95: null });
      out.set(svc, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.t - b.t);
  return out;
}

/**
 * The first minute that left the baseline band and stayed out, looked for from 10 minutes before the
 * window (the fault may predate the alert that opened the incident).
 */
function onsetOf(ctx: DetectorContext, buckets: readonly Bucket[], metric: (b: Bucket) => number | null, floor: number): number | null {
  // The median is robust to the few faulty minutes the baseline may end with.
  const values = buckets.filter((b) => b.t < ctx.scope.baseline.toMs).map(metric).filter((v): v is number => v !== null);
  const bd = band(values);
  if (bd === null) return null;
  const points: Point[] = buckets.map((b) => ({ t: b.t, v: metric(b) }));
  return firstSustained(points, (v) => v >= floor && aboveBand(v, bd, 3), ctx.scope.window.fromMs - 10 * 60_000);
}

function operationEvidence(ctx: DetectorContext, d: OpDelta, buckets: readonly Bucket[]): Evidence {
  const { w, b } = d;
  const w5 = share(w.e5, w.n);
  const w4 = share(w.e4, w.n);
  const b5 = b ? share(b.e5, b.n) : 0;
  const b4 = b ? share(b.e4, b.n) : 0;
  const onsets: number[] = [];
  if (d.latency && b?.p95) {
    const o = onsetOf(ctx, buckets, (x) => (x.n >= 3 ? x.p95 : null), b.p95 * 1.3);
    if (o !== null) onsets.push(o);
  }
  for (const kind of ['e5', 'e4'] as const) {
    if (!d[kind]) continue;
    const bs = kind === 'e5' ? b5 : b4;
    const ws = kind === 'e5' ? w5 : w4;
    const o = onsetOf(ctx, buckets, (x) => (x.n >= 3 ? x[kind] / x.n : null), bs + (ws - bs) / 2);
    if (o !== null) onsets.push(o);
  }
  const onsetMs = onsets.length > 0 ? Math.min(...onsets) : undefined;

  const label = `${w.operation} (${w.service})`;
  const clauses: string[] = [];
  if (d.latency && b) clauses.push(`p95 of ${label} rose from ${fmtMs(b.p95)} to ${fmtMs(w.p95)} (${round((w.p95 ?? 0) / (b.p95 ?? 1), 1)}×)`);
  if (d.e5) clauses.push(`5xx ${clauses.length ? '' : `of ${label} rose `}from ${fmtPct(b5)} to ${fmtPct(w5)} (${w.e5} of ${w.n})`);
  if (d.e4) clauses.push(`4xx ${clauses.length ? '' : `of ${label} rose `}from ${fmtPct(b4)} to ${fmtPct(w4)} (${w.e4} of ${w.n})`);
  if (onsetMs !== undefined) clauses[0] += ` at ${fmtClock(onsetMs)}`;
  if (!b) clauses.push('(no baseline traffic)');

  const op = operationTerm(w.service, w.operation);
  const links = [];
  if (d.e5) links.push(searchLink(`Failed ${w.operation} requests`, `from spans ${REQUESTS} ${op} (status=error OR http.response.status_code>=500)`, ctx.scope.window));
  if (d.e4) links.push(searchLink(`${w.operation} requests answered 4xx`, `from spans ${REQUESTS} ${op} http.response.status_code>=400 http.response.status_code<500`, ctx.scope.window));
  if (d.latency && b?.p95) links.push(searchLink(`${w.operation} requests slower than the baseline p95`, `from spans ${REQUESTS} ${op} duration_ms>${Math.round(b.p95)} | sort -duration_ms`, ctx.scope.window));
  links.push(
    searchLink(`${w.operation} per minute, baseline and window`, `from spans ${REQUESTS} ${op} | timechart span=1m count() p95(duration_ms) as p95`, { fromMs: ctx.scope.baseline.fromMs, toMs: ctx.scope.window.toMs }),
    serviceLink(`${w.service} service page`, w.service, ctx.scope.window),
  );
  return {
    detector: 'operations',
    category: 'code',
    component: `${w.service} ${w.operation}`,
    services: [w.service],
    role: 'symptom',
    score: d.score,
    summary: `${clauses.join('; ')}.`,
    ...(onsetMs !== undefined ? { onsetMs } : {}),
    figures: {
      baseline_requests: b?.n ?? 0,
      window_requests: w.n,
      baseline_rate_per_min: b ? round(b.n / minutes(ctx.scope.baseline), 2) : 0,
      window_rate_per_min: round(w.n / minutes(ctx.scope.window), 2),
      baseline_p50_ms: b?.p50 !== undefined && b.p50 !== null ? round(b.p50, 1) : null,
      window_p50_ms: w.p50 !== null ? round(w.p50, 1) : null,
      baseline_p95_ms: b?.p95 !== undefined && b.p95 !== null ? round(b.p95, 1) : null,
      window_p95_ms: w.p95 !== null ? round(w.p95, 1) : null,
      baseline_5xx_share: round(b5, 4),
      window_5xx_share: round(w5, 4),
      baseline_4xx_share: round(b4, 4),
      window_4xx_share: round(w4, 4),
    },
    links,
    nextStep: d.e5
      ? `Open the failed ${w.operation} spans and their traces to see which call or exception fails first.`
      : d.latency
        ? `Open the slowest ${w.operation} traces and compare their spans with a baseline trace to find where the time goes.`
        : `Check which callers send the rejected ${w.operation} requests and what changed on their side.`,
  };
}

/** A service under a surge: figures of the service over both periods. */
interface Surge {
  w: OpFigures;
  b: OpFigures;
  rateRatio: number;
  latencyRatio: number;
}

/** Services whose request rate is ≥ 3× baseline while they got slower (their own p95, or an operation's). */
function surgesOf(ctx: DetectorContext, bSvc: OpFigures[], wSvc: OpFigures[], slowServices: Set<string>): Surge[] {
  const out: Surge[] = [];
  for (const w of wSvc) {
    const b = bSvc.find((x) => x.service === w.service);
    if (!b || b.n < MIN_BASELINE_REQUESTS || w.n < 3 * MIN_WINDOW_REQUESTS) continue;
    const rateRatio = w.n / minutes(ctx.scope.window) / (b.n / minutes(ctx.scope.baseline));
    const latencyRatio = w.p95 !== null && b.p95 ? w.p95 / b.p95 : 1;
    const slower = (latencyRatio >= 1.3 && (w.p95 ?? 0) - (b.p95 ?? 0) >= 20) || slowServices.has(w.service);
    if (rateRatio >= SURGE_RATIO && slower) out.push({ w, b, rateRatio, latencyRatio });
  }
  return out;
}

function surgeEvidence(ctx: DetectorContext, s: Surge, series: Map<string, Bucket[]>): Evidence {
  const svc = s.w.service;
  const bRate = s.b.n / minutes(ctx.scope.baseline);
  const wRate = s.w.n / minutes(ctx.scope.window);
  const onsetMs = onsetOf(ctx, series.get(svc) ?? [], (x) => x.n, bRate * 2) ?? undefined;
  const score = clamp(0.45 + 0.2 * clamp(Math.log2(s.rateRatio / SURGE_RATIO)) + 0.25 * clamp(Math.log2(s.latencyRatio) / 2), 0, 0.9);
  return {
    detector: 'operations',
    category: 'capacity',
    component: svc,
    services: [svc],
    role: 'cause',
    score: round(score, 2),
    summary: `${svc} received ${round(s.rateRatio, 1)}× its baseline request rate (${round(bRate, 1)} → ${round(wRate, 1)} per minute${onsetMs !== undefined ? ` from ${fmtClock(onsetMs)}` : ''}) while its p95 went from ${fmtMs(s.b.p95)} to ${fmtMs(s.w.p95)}.`,
    ...(onsetMs !== undefined ? { onsetMs } : {}),
    figures: {
      baseline_rate_per_min: round(bRate, 2),
      window_rate_per_min: round(wRate, 2),
      rate_ratio: round(s.rateRatio, 2),
      baseline_p95_ms: s.b.p95 !== null ? round(s.b.p95, 1) : null,
      window_p95_ms: s.w.p95 !== null ? round(s.w.p95, 1) : null,
      window_5xx_share: round(share(s.w.e5, s.w.n), 4),
    },
    links: [
      searchLink(`Requests to ${svc} per minute by operation`, `from spans ${REQUESTS} service.name=${quote(svc)} | timechart span=1m count() by name`, { fromMs: ctx.scope.baseline.fromMs, toMs: ctx.scope.window.toMs }),
      searchLink(`Where ${svc}'s extra requests come from`, `from spans ${REQUESTS} service.name=${quote(svc)} | stats count() by name, http.route, client.address | sort -count`, ctx.scope.window),
      serviceLink(`${svc} service page`, svc, ctx.scope.window),
    ],
    nextStep: `Find the source of the extra traffic to ${svc} (a client retrying, a batch job, a bot) and throttle it, or scale ${svc} out.`,
  };
}
