/**
 * BubbleUp (as Honeycomb does it): among the spans of the affected services in the incident window, which
 * attribute values are over-represented in "bad" spans — failed (status error or HTTP 5xx) or slower than
 * the baseline p95 of their own operation — against the "good" ones.
 *
 * One `stats count() sum(bad) by service.name, <key>` per key of a fixed list of semantic-convention keys
 * (plus the `*.version` keys a small sample of bad spans carries). Shares are taken among the spans that
 * carry the key, so a client-span attribute (`peer.service`) is compared among client spans. A value is
 * reported when its share among bad spans beats its share among good ones by ≥ 50 points, or by a lift
 * ≥ 3 with enough support — and a two-proportion test says it is no accident.
 *
 * A `service.version` absent (or rare) in the baseline whose spans go bad is a deploy: a `change` cause
 * named `<service> <version>`, also when the rollout was complete (every span carries it) and only its
 * bad rate against the baseline's tells. Other keys are symptoms that localise the fault.
 */
import { affectedServices, serviceTerm } from './affected.ts';
import { searchRows } from './search.ts';
import { changeLink, quote, searchLink, serviceLink } from '../links.ts';
import { clamp, fmtPct, num, proportionZ, round, volumeFactor } from '../stats.ts';
import type { Category, Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';

/** The keys compared, in order (`service.version` first: its answer also gives the totals). */
export const BUBBLE_UP_KEYS = [
  'service.version',
  'host.name',
  'service.instance.id',
  'k8s.pod.name',
  'cloud.availability_zone',
  'deployment.environment',
  'http.route',
  'http.response.status_code',
  'error.type',
  'exception.type',
  'db.system',
  'db.collection.name',
  'peer.service',
  'server.address',
] as const;

// Keys that describe the failure itself (they are on bad spans by definition): weaker as localisation.
const DESCRIPTIVE = new Set(['http.response.status_code', 'error.type', 'exception.type']);
// Keys of the called side: on a server span `server.address` is the service itself, not what it called.
const CLIENT_KEYS = new Set(['peer.service', 'server.address']);
// Keys of the request: compared among the requests a service serves, where a bad span is a bad answer
// (a deploy's N+1 adds many fast database spans that would otherwise drown its slow requests).
const REQUEST_KEYS = new Set(['service.version', 'host.name', 'service.instance.id', 'k8s.pod.name', 'cloud.availability_zone', 'deployment.environment', 'http.route', 'http.response.status_code']);

/** The span kinds a key is compared among, as a search term. */
function kindTerm(key: string): string {
  if (CLIENT_KEYS.has(key)) return 'kind=client ';
  if (REQUEST_KEYS.has(key) || key.endsWith('.version')) return 'kind IN (server, consumer) ';
  return '';
}
const MIN_BAD = 10;
const MIN_SUPPORT = 10;
const MIN_Z = 4;
const SHARE_DELTA = 0.5;
const MIN_LIFT = 3;
const NEW_VERSION_SHARE = 0.05;
const MAX_CASE_OPERATIONS = 60;
const MAX_EXTRA_KEYS = 3;
const MAX_PER_KEY = 2;
const MAX_EVIDENCE = 15;
const PARALLEL = 3;
const ROW_LIMIT = 10_000;
const SAFE_KEY = /^[A-Za-z0-9_.\-:@/]{1,255}$/;

/** One value's counts over one service: spans and bad spans. */
interface Cell {
  value: string | number | null;
  n: number;
  bad: number;
}

/** The `attributes` detector. */
export const attributesDetector: Detector = {
  name: 'attributes',
  description: 'Attribute values over-represented in slow or failed spans against normal ones (BubbleUp)',
  async run(ctx) {
    const services = await affectedServices(ctx);
    if (ctx.signal.aborted) return [];
    const filter = serviceTerm(services);
    const thresholds = await operationThresholds(ctx, filter);
    if (ctx.signal.aborted) return [];
    const bad = badExpression(thresholds);
    const byKey = (key: string, w: TimeWindow) => cells(ctx, `from spans ${kindTerm(key)}${filter} | eval bad = ${bad} | stats count() as n sum(bad) as bad by service.name, ${key}`, key, w);

    const byVersion = `from spans ${filter} | eval bad = ${bad} | stats count() as n sum(bad) as bad by service.name, kind, service.version`;
    const [w, b] = await Promise.all([versionCells(ctx, byVersion, ctx.scope.window), versionCells(ctx, byVersion, ctx.scope.baseline)]);
    // Only services clearly worse than in the baseline are worth the other queries: a window as bad as
    // the baseline has nothing to explain (and a route that always fails would otherwise stand out).
    // Their requests tell best; a service that serves none (it only calls out) is judged by all its spans.
    const worth = [...w.all.keys()].filter(
      (svc) => degraded(w.requests.get(svc) ?? [], b.requests.get(svc) ?? []) || degraded(w.all.get(svc) ?? [], b.all.get(svc) ?? []),
    );
    if (worth.length === 0 || ctx.signal.aborted) return [];
    const pick = (svc: string, side: { requests: Map<string, Cell[]>; all: Map<string, Cell[]> }) => (w.requests.has(svc) ? side.requests : side.all).get(svc) ?? [];
    const versions = new Map(worth.map((svc) => [svc, pick(svc, w)]));
    const baselineVersions = new Map(worth.map((svc) => [svc, pick(svc, b)]));

    const found = worth.flatMap((svc) => versionEvidence(ctx, svc, versions.get(svc) ?? [], baselineVersions.get(svc) ?? [], thresholds));
    const keys = [...BUBBLE_UP_KEYS.slice(1), ...(await versionKeys(ctx, filter, bad))];
    for (let i = 0; i < keys.length && !ctx.signal.aborted; i += PARALLEL) {
      const chunk = keys.slice(i, i + PARALLEL);
      const grids = await Promise.all(chunk.map((k) => byKey(k, ctx.scope.window)));
      const candidates = chunk.map((k, j) => worth.flatMap((svc) => bubbleUp(ctx, svc, k, grids[j]!.get(svc) ?? [], thresholds)));
      // The baseline of a key is read only when one of its values stands out in the window.
      const baselines = await Promise.all(chunk.map((k, j) => (candidates[j]!.length > 0 ? byKey(k, ctx.scope.baseline) : Promise.resolve(new Map<string, Cell[]>()))));
      chunk.forEach((_, j) => found.push(...candidates[j]!.filter((e) => newlyBad(e, baselines[j]!.get(e.services[0]!) ?? []))));
    }
    return withoutRedundantDescriptions(found).sort((a, b) => b.score - a.score).slice(0, MAX_EVIDENCE);
  },
};

/** Baseline p95 per operation: `service → operation → ms`, the busiest operations first (bounded). */
type Thresholds = Map<string, Map<string, number>>;

async function operationThresholds(ctx: DetectorContext, filter: string): Promise<Thresholds> {
  const rows = await searchRows(ctx, `from spans ${filter} | stats count() as n p95(duration_ms) as p95 by service.name, name | where n >= 10 | sort -n | head ${MAX_CASE_OPERATIONS}`, ctx.scope.baseline, MAX_CASE_OPERATIONS);
  const out: Thresholds = new Map();
  for (const r of rows) {
    const p95 = num(r.p95);
    if (typeof r['service.name'] !== 'string' || typeof r.name !== 'string' || p95 === null) continue;
    const m = out.get(r['service.name']) ?? new Map<string, number>();
    m.set(r.name, round(p95, 3));
    out.set(r['service.name'], m);
  }
  return out;
}

/** `1` for a bad span: failed, or slower than its operation's baseline p95 (of the given services only). */
function badExpression(t: Thresholds, only?: string): string {
  const branches: string[] = [];
  for (const [svc, ops] of t) {
    if (only !== undefined && svc !== only) continue;
    for (const [op, ms] of ops) branches.push(`service.name = ${quote(svc)} and name = ${quote(op)}, ${ms}`);
  }
  const slow = branches.length > 0 ? ` or duration_ms > case(${branches.join(', ')}, true, 1e18)` : '';
  return `if(status = "Error" or http.response.status_code >= 500${slow}, 1, 0)`;
}

/** A `stats … by service.name, <key>` answer as cells per service. */
async function cells(ctx: DetectorContext, text: string, key: string, w: TimeWindow): Promise<Map<string, Cell[]>> {
  const rows = await searchRows(ctx, text, w, ROW_LIMIT);
  const out = new Map<string, Cell[]>();
  for (const r of rows) {
    if (typeof r['service.name'] !== 'string') continue;
    const raw = r[key];
    const value = raw === null || raw === undefined || raw === '' ? null : typeof raw === 'number' ? raw : String(raw);
    const list = out.get(r['service.name']) ?? [];
    list.push({ value, n: num(r.n) ?? 0, bad: num(r.bad) ?? 0 });
    out.set(r['service.name'], list);
  }
  return out;
}

const sum = (list: readonly Cell[], f: 'n' | 'bad') => list.reduce((a, c) => a + c[f], 0);

/** A `stats … by service.name, kind, service.version` answer as cells per service: of requests (server and consumer spans) and of all spans. */
async function versionCells(ctx: DetectorContext, text: string, w: TimeWindow): Promise<{ requests: Map<string, Cell[]>; all: Map<string, Cell[]> }> {
  const rows = await searchRows(ctx, text, w, ROW_LIMIT);
  const requests = new Map<string, Cell[]>();
  const all = new Map<string, Cell[]>();
  const add = (m: Map<string, Cell[]>, svc: string, value: string | null, n: number, bad: number) => {
    const list = m.get(svc) ?? [];
    const cell = list.find((c) => c.value === value);
    if (cell) (cell.n += n), (cell.bad += bad);
    else list.push({ value, n, bad });
    m.set(svc, list);
  };
  for (const r of rows) {
    if (typeof r['service.name'] !== 'string') continue;
    const v = r['service.version'];
    const value = v === null || v === undefined || v === '' ? null : String(v);
    const [n, bad] = [num(r.n) ?? 0, num(r.bad) ?? 0];
    add(all, r['service.name'], value, n, bad);
    if (r.kind === 'Server' || r.kind === 'Consumer') add(requests, r['service.name'], value, n, bad);
  }
  return { requests, all };
}

/** Whether a service has enough bad spans in the window, clearly more often than in the baseline. */
function degraded(window: readonly Cell[], baseline: readonly Cell[]): boolean {
  const [n, b] = [sum(window, 'n'), sum(window, 'bad')];
  const [bn, bb] = [sum(baseline, 'n'), sum(baseline, 'bad')];
  if (b < MIN_BAD) return false;
  if (bn === 0) return true;
  const rate = b / n;
  const baseRate = bb / bn;
  return rate >= 1.5 * baseRate && rate - baseRate >= 0.03 && proportionZ(b, n, bb, bn) >= MIN_Z;
}

/** Whether a reported value's spans go bad clearly more often than they did in the baseline (or it is new). */
function newlyBad(e: Evidence, baseline: readonly Cell[]): boolean {
  const cell = baseline.find((c) => c.value !== null && String(c.value) === String(e.figures.value));
  if (!cell || cell.n < MIN_SUPPORT) return true;
  const rate = Number(e.figures.bad_rate);
  const baseRate = cell.bad / cell.n;
  return rate >= 1.5 * baseRate && rate - baseRate >= 0.1;
}

/**
 * A service's descriptive findings (`error.type=…`, a status code) only when nothing localises its fault
 * better — then the most telling one, as a clue; otherwise they would crowd the report. An instance or pod
 * finding that covers exactly a reported host's spans is left out too.
 */
function withoutRedundantDescriptions(found: Evidence[]): Evidence[] {
  const descriptive = (e: Evidence) => e.category === 'code' && DESCRIPTIVE.has(String(e.figures.attribute));
  // An instance or pod that is exactly a reported host's spans says the same thing again.
  const hosts = new Set(found.filter((e) => e.figures.attribute === 'host.name').map((e) => `${e.services[0]} ${e.figures.spans} ${e.figures.bad_spans}`));
  const sameAsHost = (e: Evidence) => ['service.instance.id', 'k8s.pod.name'].includes(String(e.figures.attribute)) && hosts.has(`${e.services[0]} ${e.figures.spans} ${e.figures.bad_spans}`);
  found = found.filter((e) => !sameAsHost(e));
  const localised = new Set(found.filter((e) => !descriptive(e)).map((e) => e.services[0]));
  const kept = new Set<string>();
  return [...found]
    .sort((a, b) => b.score - a.score)
    .filter((e) => {
      if (!descriptive(e)) return true;
      const svc = e.services[0] ?? '';
      if (localised.has(svc) || kept.has(svc)) return false;
      kept.add(svc);
      return true;
    });
}

/** `*.version` keys (other than `service.version` and the SDK's own) that a sample of bad spans carries. */
async function versionKeys(ctx: DetectorContext, filter: string, bad: string): Promise<string[]> {
  if (ctx.signal.aborted) return [];
  const rows = await searchRows(ctx, `from spans ${filter} | where ${bad} = 1 | fields attributes, resource_attributes | head 50`, ctx.scope.window, 50);
  const keys = new Set<string>();
  for (const r of rows) {
    for (const map of [r.attributes, r.resource_attributes]) {
      if (map === null || typeof map !== 'object' || Array.isArray(map)) continue;
      for (const k of Object.keys(map)) {
        if (k.endsWith('.version') && k !== 'service.version' && !/^(telemetry|otel)\./.test(k) && SAFE_KEY.test(k)) keys.add(k);
      }
    }
  }
  return [...keys].sort().slice(0, MAX_EXTRA_KEYS);
}

/** A value's comparison between bad and good spans of one service. */
interface Lift {
  cell: Cell;
  badShare: number;
  goodShare: number;
  badRate: number;
  otherBadRate: number;
  z: number;
}

/** Values whose share among bad spans clearly beats their share among good ones. */
function overRepresented(list: readonly Cell[]): Lift[] {
  const present = list.filter((c) => c.value !== null);
  const N = sum(present, 'n');
  const B = sum(present, 'bad');
  const G = N - B;
  if (B < MIN_BAD) return [];
  const out: Lift[] = [];
  for (const cell of present) {
    const good = cell.n - cell.bad;
    const badShare = cell.bad / B;
    const goodShare = G > 0 ? good / G : 0;
    const z = G > 0 ? proportionZ(cell.bad, B, good, G) : cell.bad >= MIN_SUPPORT ? MIN_Z : 0;
    const lift = goodShare > 0 ? badShare / goodShare : Infinity;
    const strong = badShare - goodShare >= SHARE_DELTA || (lift >= MIN_LIFT && badShare >= 0.2);
    if (cell.bad >= MIN_SUPPORT && z >= MIN_Z && strong) {
      const otherN = N - cell.n;
      out.push({ cell, badShare, goodShare, z, badRate: cell.bad / cell.n, otherBadRate: otherN > 0 ? (B - cell.bad) / otherN : 0 });
    }
  }
  return out.sort((a, b) => b.badShare - b.goodShare - (a.badShare - a.goodShare)).slice(0, MAX_PER_KEY);
}

/** Category and component of an over-represented `key=value` of `svc` (issue 14's naming table). */
function culprit(svc: string, key: string, value: string, t: Thresholds): { category: Category; component: string } {
  if (key === 'http.route') {
    // The route's one operation (`POST /orders`), named as the operations detector names it, so both merge.
    const ops = [...(t.get(svc)?.keys() ?? [])].filter((op) => op === value || op.endsWith(` ${value}`));
    if (ops.length === 1) return { category: 'code', component: `${svc} ${ops[0]}` };
  }
  if (key === 'host.name') return { category: 'resource', component: `host ${value}` };
  if (key === 'peer.service' || key === 'server.address') return { category: 'dependency', component: value };
  if (key.startsWith('db.')) return { category: 'database', component: `${svc} ${key}=${value}` };
  return { category: 'code', component: `${svc} ${key}=${value}` };
}

/** The search term `key=value` (numbers bare: they compare as numbers). */
const term = (key: string, value: string | number) => `${key}=${typeof value === 'number' ? value : quote(value)}`;

function links(ctx: DetectorContext, svc: string, key: string, value: string | number, t: Thresholds) {
  const s = `service.name=${quote(svc)}`;
  return [
    searchLink(`Spans of ${svc} with ${key}=${value}`, `from spans ${kindTerm(key)}${s} ${term(key, value)} | sort -duration_ms`, ctx.scope.window),
    searchLink(`Bad and all spans of ${svc} by ${key}`, `from spans ${kindTerm(key)}${s} | eval bad = ${badExpression(t, svc)} | stats count() as n sum(bad) as bad by ${key} | sort -bad`, ctx.scope.window),
  ];
}

/** Evidence of the over-represented values of one key in one service. */
function bubbleUp(ctx: DetectorContext, svc: string, key: string, list: readonly Cell[], t: Thresholds): Evidence[] {
  // A success code among slow spans says nothing a responder can use.
  const informative = (c: Cell) => key !== 'http.response.status_code' || Number(c.value) >= 400;
  return overRepresented(list).filter((l) => informative(l.cell)).map((l) => {
    const value = String(l.cell.value);
    const { category, component } = culprit(svc, key, value, t);
    const effect = clamp((l.badShare - l.goodShare) / 0.8);
    // Keys that describe the failure (its status, its error type) localise nothing: they stay weak.
    const cap = DESCRIPTIVE.has(key) ? 0.45 : 0.85;
    return {
      detector: 'attributes',
      category,
      component,
      services: [svc],
      role: 'symptom',
      score: round(clamp(0.3 + 0.55 * effect * volumeFactor(l.cell.bad), 0, cap), 2),
      summary: `${key}=${value} carries ${fmtPct(l.badShare)} of the slow or failed spans of ${svc} but ${fmtPct(l.goodShare)} of its normal ones (${fmtPct(l.badRate)} of the spans with it are bad against ${fmtPct(l.otherBadRate)} of the others).`,
      figures: figures(key, value, l),
      links: links(ctx, svc, key, l.cell.value as string | number, t),
      nextStep: category === 'resource'
        ? `Compare ${value}'s CPU, memory and disk with the other hosts, and take it out of rotation if it is the odd one.`
        : category === 'dependency'
          ? `Check ${value}'s health and the calls to it: its errors and latency from ${svc}'s side and its own.`
          : `Open the slow or failed spans with ${key}=${value} and look for what they share.`,
    } satisfies Evidence;
  });
}

function figures(key: string, value: string, l: Lift): Evidence['figures'] {
  return {
    attribute: key,
    value,
    bad_spans: l.cell.bad,
    spans: l.cell.n,
    share_of_bad: round(l.badShare, 4),
    share_of_good: round(l.goodShare, 4),
    bad_rate: round(l.badRate, 4),
    bad_rate_elsewhere: round(l.otherBadRate, 4),
    z: round(l.z, 1),
  };
}

/**
 * Versions of a service that are new in the window (absent or rare in the baseline) and whose spans go
 * bad: over-represented among bad spans, or bad far more often than the service's spans in the baseline
 * (a complete rollout leaves no good spans of the old version to compare with).
 */
function versionEvidence(ctx: DetectorContext, svc: string, window: readonly Cell[], baseline: readonly Cell[], t: Thresholds): Evidence[] {
  const out: Evidence[] = [];
  const lifted = new Map(overRepresented(window).map((l) => [l.cell.value, l]));
  const bN = sum(baseline, 'n');
  const baseRate = bN > 0 ? sum(baseline, 'bad') / bN : 0;
  const known = new Set<string>();
  for (const cell of window) {
    if (cell.value === null || cell.bad < MIN_SUPPORT) continue;
    const version = String(cell.value);
    const inBaseline = baseline.find((c) => c.value === cell.value)?.n ?? 0;
    const isNew = bN > 0 && inBaseline / bN < NEW_VERSION_SHARE;
    const rate = cell.bad / cell.n;
    const l = lifted.get(cell.value);
    const worse = bN > 0 && rate - baseRate >= 0.1 && rate >= 3 * baseRate && proportionZ(cell.bad, cell.n, sum(baseline, 'bad'), bN) >= MIN_Z;
    if (!isNew) known.add(version);
    if (!isNew || (!l && !worse)) continue;
    const effect = Math.max(l ? clamp((l.badShare - l.goodShare) / 0.8) : 0, clamp((rate - baseRate) / 0.6));
    out.push({
      detector: 'attributes',
      category: 'change',
      component: `${svc} ${version}`,
      services: [svc],
      role: 'cause',
      score: round(clamp(0.45 + 0.45 * effect * volumeFactor(cell.bad), 0, 0.9), 2),
      summary: `${svc} ${version} is new in the window (${inBaseline} of ${bN} baseline spans) and ${fmtPct(rate)} of its spans are slow or failed against ${fmtPct(baseRate)} in the baseline${l ? `; it carries ${fmtPct(l.badShare)} of the bad spans but ${fmtPct(l.goodShare)} of the normal ones` : ''}.`,
      figures: {
        attribute: 'service.version',
        value: version,
        bad_spans: cell.bad,
        spans: cell.n,
        bad_rate: round(rate, 4),
        baseline_bad_rate: round(baseRate, 4),
        baseline_spans_of_version: inBaseline,
        share_of_bad: l ? round(l.badShare, 4) : null,
        share_of_good: l ? round(l.goodShare, 4) : null,
      },
      links: [...links(ctx, svc, 'service.version', version, t), changeLink(`Changes of ${svc}`, svc, { fromMs: ctx.scope.baseline.fromMs, toMs: ctx.scope.window.toMs }), serviceLink(`${svc} service page`, svc, ctx.scope.window)],
      nextStep: `Compare ${svc} ${version} with the version before it (its deploy, its diff) and roll it back if the bad spans are its own.`,
    });
  }
  // A version that ran before the window too is no deploy, but it may still localise the fault (a canary).
  out.push(...bubbleUp(ctx, svc, 'service.version', window, t).filter((e) => known.has(String(e.figures.value)) && newlyBad(e, baseline)));
  return out;
}
