/**
 * Log templates and error groups that are new or spiking in the window (issue 14 §4).
 *
 * WARN+ logs of the services involved (the incident's and those they call) are sampled in the baseline
 * and the window, mined into templates per service with {@link Drain}, and counted per period (scaled by
 * how much of each period the sample covers). A template is reported when it is new (absent from the
 * baseline) or spiking (≥ 5× its baseline rate), with volume. Error groups of the errors view (exception
 * type + normalised message + top frame) are compared the same way; one that a reported template already
 * covers adds its figures to that template's evidence instead of repeating it.
 *
 * The category is read from the text when it is clear: the key of a configuration change recorded shortly
 * before → `configuration` (`<service> <key>`), connection-pool words → `database` (the pool),
 * "no space left" → `resource` (the host's disk, its mount point found in the filesystem metrics), a
 * timeout or refusal naming a service the logging service calls → `dependency` / `availability`;
 * otherwise it is a `code` symptom named after the template.
 */
import { errorGroupsQuery, shapeErrorGroups } from '../../query/views/errors.ts';
import { metricAnswer } from '../../query/views/metric-answer.ts';
import type { ErrorGroupRow } from '../../api/contract.ts';
import { Drain, templateText, WILDCARD, type LogCluster } from '../drain.ts';
import { quote, searchLink, traceLink } from '../links.ts';
import { downstreamOf } from '../topology.ts';
import type { Category, Detector, DetectorContext, Evidence, EvidenceRole, ServiceEdge, TimeWindow } from '../types.ts';
import { poolComponent, poolOfMessage } from './db-pool.ts';
import { mapLimit } from '../patient-queries.ts';

const NAME = 'log-patterns';
// Log lines sampled per period (newest first); counts are scaled to the period's total.
const SAMPLE = 3000;
// Up to this many services, each is sampled on its own (its share of SAMPLE).
const PER_SERVICE_MAX = 8;
const MAX_EVIDENCE = 8;
const SPIKE_RATIO = 5;
const MIN_NEW = 8;
const MIN_SPIKE = 10;

const ns = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;
const minutes = (w: TimeWindow): number => Math.max(1 / 60, (w.toMs - w.fromMs) / 60_000);
const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `service.name IN (…)` for a search, or nothing when every service is in scope. */
function serviceFilter(services: string[] | null): string {
  return services ? ` service.name IN (${services.map(quote).join(', ')})` : '';
}

/** Text of a connection pool that could not hand out a connection. */
const POOL_RE =
  /\b(connection|db|database|sql)\b.*\bpool\b|\bpool\b.*\b(connection|acquire)|resourcerequest timed out|too many (connections|clients)|remaining connection slots|\b(acquire|obtain)\w*\s+(a\s+)?((db|database)\s+)?connection/i;
/** Text of a full disk. */
const DISK_RE = /\benospc\b|no space left|disk (is )?full|disk quota exceeded|not enough space on (the )?disk/i;
/** Text of a dependency that answered badly or not in time. */
const SLOW_PEER_RE = /time[ds]?[ -]?out|timed out|deadline exceeded|took too long|\b50[234]\b|bad gateway|unavailable|failed|error/i;
/** Text of a dependency that refuses connections. */
const DOWN_PEER_RE = /econnrefused|connection refused|refused to connect|no route to host|ehostunreach|enotfound|getaddrinfo/i;

/** The constant runs of a template, longest first (at most three), for a search that finds its lines. */
export function templateTerms(template: string): string[] {
  const runs: string[] = [];
  let cur: string[] = [];
  for (const t of [...template.split(' '), WILDCARD]) {
    if (t.includes(WILDCARD) || t.includes('*')) {
      if (cur.length) runs.push(cur.join(' '));
      cur = [];
    } else cur.push(t);
  }
  return runs
    .filter((r) => r.length >= 3)
    .sort((a, b) => b.length - a.length)
    .slice(0, 3);
}

/** A search for a template's lines of one service. */
export function templateSearch(service: string, template: string): string {
  return `severity>=WARN service.name=${quote(service)} ${templateTerms(template).map(quote).join(' ')}`.trim();
}

/** A sampled log line. */
interface Line {
  t: number;
  service: string;
  host: string;
  body: string;
}

/** WARN+ lines of a period: a sample (newest first) and each service's total. */
async function sampleLogs(ctx: DetectorContext, services: string[] | null, w: TimeWindow): Promise<{ lines: Line[]; totals: Map<string, number> }> {
  const opts = { fromNs: ns(w.fromMs), toNs: ns(w.toMs), explainEmpty: false };
  const filter = `severity>=WARN${serviceFilter(services)}`;
  const res = await ctx.queries.search(`${filter} | stats count() as n by service.name`, { ...opts, limit: 10_000 });
  const totals = new Map(res.rows.map((r) => [String(r['service.name']), Number(r.n) || 0]));
  const sample = (text: string, n: number) => ctx.queries.search(`${text} | fields timestamp, service.name, host.name, body | head ${n}`, { ...opts, limit: n });
  // One sample per service when there are few, so a chatty service does not crowd the others out of it.
  const chatty = [...totals].filter(([, n]) => n > 0);
  const answers =
    chatty.length > 1 && chatty.length <= PER_SERVICE_MAX
      ? await mapLimit(chatty, 2, ([svc]) => sample(`severity>=WARN service.name=${quote(svc)}`, Math.ceil(SAMPLE / chatty.length)))
      : chatty.length
        ? [await sample(filter, SAMPLE)]
        : [];
  const lines = answers.flatMap((a) =>
    a.rows.map((r) => ({ t: Date.parse(String(r.timestamp)), service: String(r['service.name'] ?? ''), host: String(r['host.name'] ?? ''), body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? '') })),
  );
  return { totals, lines };
}

/** How one template of one service fared in both periods. */
interface TemplateStats {
  service: string;
  cluster: LogCluster;
  base: number;
  win: number;
  firstWinMs: number;
  sample: string;
  host: string;
}

/** Mines templates per service over both samples and counts each template per period. */
function mine(base: Line[], win: Line[]): { miners: Map<string, Drain>; stats: TemplateStats[] } {
  const miners = new Map<string, Drain>();
  const stats = new Map<string, TemplateStats>();
  const add = (l: Line, inWindow: boolean) => {
    let d = miners.get(l.service);
    if (!d) miners.set(l.service, (d = new Drain()));
    const c = d.add(l.body);
    if (!c) return;
    const k = `${l.service}\u0000${c.id}`;
    const s = stats.get(k) ?? { service: l.service, cluster: c, base: 0, win: 0, firstWinMs: Infinity, sample: l.body, host: l.host };
    stats.set(k, s);
    if (inWindow) {
      s.win++;
      if (l.t < s.firstWinMs) s.firstWinMs = l.t;
      s.sample = l.body;
      if (l.host) s.host = l.host;
    } else s.base++;
  };
  // Baseline first: the window's lines then join the templates the baseline established.
  for (const l of base) add(l, false);
  for (const l of win) add(l, true);
  return { miners, stats: [...stats.values()] };
}

/** What a text points at, as a category and component. */
interface Culprit {
  category: Category;
  component: string;
  role: EvidenceRole;
  services: string[];
}

const escapeRe = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The service `service` calls (directly or further down) that a text names, by its name or its name without
 * a `-svc`/`-service`/`-api`/`-server` suffix (`ledger` for `ledger-svc`). A relayed failure names several
 * ("billing failed: ledger answered 503"): the one furthest down the calls is where it began.
 */
export function peerNamedIn(text: string, service: string, edges: readonly ServiceEdge[]): string | undefined {
  const lower = text.toLowerCase();
  const names = (callee: string) => {
    const short = callee.replace(/[-_.]?(svc|service|api|server|srv)$/i, '');
    return short.length >= 3 && short !== callee ? [callee, short] : [callee];
  };
  const named = [...downstreamOf(service, edges)].filter((c) => names(c).some((n) => new RegExp(`(^|[^\\w.-])${escapeRe(n.toLowerCase())}($|[^\\w-])`).test(lower)));
  return named.find((c) => !named.some((o) => o !== c && downstreamOf(c, edges).has(o))) ?? named[0];
}

/** A configuration key a recorded change set (its `attributes.key`), with the service it belongs to. */
interface ConfigKey {
  service: string;
  key: string;
}

/** Keys of configuration changes and feature flags recorded from the baseline's start to the window's end. */
async function changedKeys(ctx: DetectorContext): Promise<ConfigKey[]> {
  const changes = await ctx.changes({ fromMs: ctx.scope.baseline.fromMs, toMs: ctx.scope.window.toMs });
  return changes
    .filter((c) => c.kind === 'config' || c.kind === 'feature_flag')
    .map((c) => ({ service: c.service, key: String(c.attributes?.key ?? '') }))
    .filter((k) => k.key.length >= 3);
}

/** Reads the culprit a log text names; lookups of pools and mount points run only when the text needs them. */
async function classify(ctx: DetectorContext, edges: ServiceEdge[], keys: ConfigKey[], service: string, host: string, template: string, sample: string): Promise<Culprit> {
  const text = `${template} ${sample}`;
  const lower = text.toLowerCase();
  // A text naming a configuration key changed shortly before: the change is what it reports.
  const key = keys.find((k) => new RegExp(`(^|[^\\w.-])${escapeRe(k.key.toLowerCase())}($|[^\\w-])`).test(lower));
  if (key) return { category: 'configuration', component: `${key.service} ${key.key}`, role: 'cause', services: [...new Set([key.service, service])] };
  const range = { fromNs: ns(ctx.scope.baseline.fromMs), toNs: ns(ctx.scope.window.toMs) };
  const bucketNs = range.toNs - range.fromNs + 60_000_000_000n;
  if (POOL_RE.test(text)) {
    const pools = await metricAnswer(ctx.queries, { ...range, bucketNs, name: 'db.client.connection.count', service, filters: [], groupBy: 'db.client.connection.pool.name', agg: 'max' });
    const known = pools.series.map((s) => s.group ?? '').filter(Boolean);
    return { category: 'database', component: poolComponent(service, poolOfMessage(sample, known)), role: 'cause', services: [service] };
  }
  if (DISK_RE.test(text)) {
    const disk = await diskOf(ctx, host, sample, range, bucketNs);
    if (disk) return { category: 'resource', component: `host ${disk.host} disk ${disk.mount}`, role: 'cause', services: [service] };
    return { category: 'resource', component: `${service} disk`, role: 'cause', services: [service] };
  }
  const peer = peerNamedIn(text, service, edges);
  if (peer && DOWN_PEER_RE.test(text)) return { category: 'availability', component: peer, role: 'cause', services: [peer, service] };
  if (peer && SLOW_PEER_RE.test(text)) return { category: 'dependency', component: peer, role: 'cause', services: [peer, service] };
  return { category: 'code', component: `${service} ${cut(template, 80)}`, role: 'symptom', services: [service] };
}

const FS_METRIC = 'system.filesystem.utilization';
const MOUNT_KEY = 'system.filesystem.mountpoint';

/**
 * The host and mount point a disk message concerns. The message may be relayed by a caller (its own host is
 * then not the full one), so mounts are looked up on every host: the longest mount point a path of the
 * message lies under, on the host where it is fullest (the logging host on a tie). Without a path: the
 * logging host's fullest mount point, when it is nearly full.
 */
async function diskOf(ctx: DetectorContext, host: string, sample: string, range: { fromNs: bigint; toNs: bigint }, bucketNs: bigint): Promise<{ host: string; mount: string } | undefined> {
  const fullest = (series: { group: string | null; points: { value: number | null }[] }[]) =>
    series.map((x) => ({ key: x.group ?? '', used: Math.max(0, ...x.points.map((p) => p.value ?? 0)) })).filter((x) => x.key);
  const paths = sample.match(/\/[^\s'",;:)]*/g) ?? [];
  if (paths.length) {
    const mounts = fullest((await metricAnswer(ctx.queries, { ...range, bucketNs, name: FS_METRIC, filters: [], groupBy: MOUNT_KEY, agg: 'max' })).series);
    const under = mounts
      .filter((m) => paths.some((p) => p === m.key || p.startsWith(m.key.endsWith('/') ? m.key : `${m.key}/`)))
      .sort((a, b) => b.key.length - a.key.length);
    const mount = under[0]?.key;
    if (mount) {
      const hosts = fullest((await metricAnswer(ctx.queries, { ...range, bucketNs, name: FS_METRIC, filters: [{ key: MOUNT_KEY, value: mount }], groupBy: 'host.name', agg: 'max' })).series);
      // Only the root matched (any path lies under it): it can only be the logging host's own disk.
      const candidates = mount === '/' ? hosts.filter((h) => h.key === host) : hosts;
      const best = candidates.sort((a, b) => b.used - a.used || Number(b.key === host) - Number(a.key === host))[0];
      if (best) return { host: best.key, mount };
    }
  }
  if (!host) return undefined;
  const own = fullest((await metricAnswer(ctx.queries, { ...range, bucketNs, name: FS_METRIC, filters: [{ key: 'host.name', value: host }], groupBy: MOUNT_KEY, agg: 'max' })).series).sort((a, b) => b.used - a.used)[0];
  return own && own.used >= 0.9 ? { host, mount: own.key } : undefined;
}

/** Score of a new or spiking signal: volume and effect (new = full effect). */
function scoreOf(win: number, ratio: number | null, role: EvidenceRole): number {
  const volume = clamp01(Math.log10(win / 2) / 2);
  const effect = ratio === null ? 1 : clamp01(Math.log10(ratio) / 2);
  return round((role === 'cause' ? 0.2 : 0.15) + 0.45 * volume * (0.5 + 0.5 * effect), 3);
}

/** Error groups of the services over a period, keyed by service and fingerprint. */
async function errorGroups(ctx: DetectorContext, w: TimeWindow, services: Set<string> | null): Promise<Map<string, { service: string; g: ErrorGroupRow }>> {
  const rows = shapeErrorGroups(await ctx.queries.rows(errorGroupsQuery(ctx.queries.dialect, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit: 500 })));
  const out = new Map<string, { service: string; g: ErrorGroupRow }>();
  for (const g of rows) {
    const service = g.services.find((s) => !services || services.has(s));
    if (service) out.set(`${service}\u0000${g.fingerprint}`, { service, g });
  }
  return out;
}

/** The `log-patterns` detector. */
export const logPatternsDetector: Detector = {
  name: NAME,
  description: 'Error groups and log templates that are new or spiking (Drain)',
  async run(given) {
    if (given.signal.aborted) return [];
    const ctx = given;
    const { window: w, baseline: bw } = ctx.scope;
    const edges = await ctx.topology();
    let scoped: Set<string> | null = null;
    if (ctx.scope.services.length) {
      scoped = new Set(ctx.scope.services);
      for (const s of ctx.scope.services) for (const d of downstreamOf(s, edges)) scoped.add(d);
    }
    const list = scoped ? [...scoped] : null;
    if (ctx.signal.aborted) return [];
    const [base, win, groupsBase, groupsWin] = await Promise.all([sampleLogs(ctx, list, bw), sampleLogs(ctx, list, w), errorGroups(ctx, bw, scoped), errorGroups(ctx, w, scoped)]);
    if (ctx.signal.aborted) return [];
    // How many lines each sampled line of a service stands for, per period (1 when the sample holds them all).
    const factors = (p: { lines: Line[]; totals: Map<string, number> }) => {
      const sampled = new Map<string, number>();
      for (const l of p.lines) sampled.set(l.service, (sampled.get(l.service) ?? 0) + 1);
      return new Map([...sampled].map(([svc, n]) => [svc, Math.max(1, (p.totals.get(svc) ?? n) / n)]));
    };
    const byPeriod = new Map([base, win].map((p) => [p, factors(p)]));
    const scale = (p: { lines: Line[]; totals: Map<string, number> }, service: string) => byPeriod.get(p)?.get(service) ?? 1;
    const { miners, stats } = mine(base.lines, win.lines);
    const keys = await changedKeys(ctx).catch(() => []);
    const bMin = minutes(bw);
    const wMin = minutes(w);

    type Found = { evidence: Evidence; cluster?: LogCluster; service: string };
    const found: Found[] = [];
    const judge = (estBase: number, estWin: number) => {
      const ratio = estBase === 0 ? null : estWin / wMin / (estBase / bMin);
      return { ratio, keep: (ratio === null && estWin >= MIN_NEW) || (ratio !== null && ratio >= SPIKE_RATIO && estWin >= MIN_SPIKE) };
    };
    const candidates = stats
      .map((s) => {
        const estBase = s.base * scale(base, s.service);
        const estWin = s.win * scale(win, s.service);
        return { s, estBase, estWin, ...judge(estBase, estWin) };
      })
      .filter((c) => c.keep)
      .sort((a, b) => b.estWin - a.estWin)
      .slice(0, MAX_EVIDENCE);
    // A baseline sample that did not cover the whole baseline cannot prove a template absent or rare there:
    // count its lines over the whole baseline instead.
    await mapLimit(candidates, 2, async (c) => {
      if (scale(base, c.s.service) <= 1) return;
      const template = templateText(c.s.cluster);
      if (!templateTerms(template).length) return void (c.keep = false);
      const res = await ctx.queries.search(`${templateSearch(c.s.service, template)} | stats count() as n`, { fromNs: ns(bw.fromMs), toNs: ns(bw.toMs), limit: 1, explainEmpty: false });
      c.estBase = Number(res.rows[0]?.n) || 0;
      Object.assign(c, judge(c.estBase, c.estWin));
    });
    for (const c of candidates.filter((x) => x.keep)) {
      if (ctx.signal.aborted) return [];
      const template = templateText(c.s.cluster);
      const culprit = await classify(ctx, edges, keys, c.s.service, c.s.host, template, c.s.sample);
      const truncated = scale(win, c.s.service) > 1;
      const onsetMs = !truncated && Number.isFinite(c.s.firstWinMs) ? c.s.firstWinMs : undefined;
      const what =
        c.ratio === null
          ? `new log pattern in ${c.s.service}: "${cut(template, 160)}" ×${Math.round(c.estWin)} in the window (none in the baseline)`
          : `log pattern of ${c.s.service} spiking ${Math.round(c.ratio)}×: "${cut(template, 160)}" ${round(c.estWin / wMin, 1)}/min (baseline ${round(c.estBase / bMin, 2)}/min)`;
      found.push({
        service: c.s.service,
        cluster: c.s.cluster,
        evidence: {
          detector: NAME,
          ...culprit,
          score: scoreOf(c.estWin, c.ratio, culprit.role),
          summary: `${what.charAt(0).toUpperCase()}${what.slice(1)}${onsetMs !== undefined ? `, from ${clock(onsetMs)} UTC` : ''}; e.g. "${cut(c.s.sample, 200)}".`,
          ...(onsetMs !== undefined ? { onsetMs } : {}),
          figures: { template: cut(template, 500), window_count: Math.round(c.estWin), baseline_count: Math.round(c.estBase), window_per_min: round(c.estWin / wMin), baseline_per_min: round(c.estBase / bMin, 3), ratio: c.ratio === null ? null : round(c.ratio, 1), sample: cut(c.s.sample, 500) },
          links: [
            searchLink('Lines of this pattern', templateSearch(c.s.service, template), w),
            searchLink('This pattern per minute (baseline and window)', `${templateSearch(c.s.service, template)} | timechart span=1m count()`, { fromMs: bw.fromMs, toMs: w.toMs }),
          ],
          nextStep: nextStepOf(culprit, c.s.service),
        },
      });
    }

    // Error groups: new or spiking, unless a reported template already covers them.
    for (const [k, { service, g }] of groupsWin) {
      if (ctx.signal.aborted) return [];
      const before = groupsBase.get(k)?.g.occurrences ?? 0;
      const ratio = before === 0 ? null : g.occurrences / wMin / (before / bMin);
      if (!(before === 0 ? g.occurrences >= MIN_NEW : (ratio ?? 0) >= SPIKE_RATIO && g.occurrences >= MIN_SPIKE)) continue;
      const message = g.last_message ?? g.normalized_message;
      const cluster = miners.get(service)?.match(message);
      const covering = cluster && found.find((f) => f.service === service && f.cluster === cluster);
      const figures = { error_type: g.type, error_message: cut(g.normalized_message, 300), error_occurrences: g.occurrences, error_baseline_occurrences: before, error_top_frame: cut(g.top_frame, 200) };
      if (covering) {
        Object.assign(covering.evidence.figures, figures);
        if (g.sample_trace_id) covering.evidence.links.push(traceLink('A trace with this error', g.sample_trace_id));
        continue;
      }
      const text = `${g.type}: ${g.normalized_message}`;
      const culprit = await classify(ctx, edges, keys, service, '', text, message);
      const firstSeen = g.first_seen ? Date.parse(g.first_seen) : undefined;
      const what = ratio === null ? `new error in ${service}: ${cut(text, 160)} ×${g.occurrences} (none in the baseline)` : `error of ${service} spiking ${Math.round(ratio)}×: ${cut(text, 160)} ×${g.occurrences} (baseline ${before})`;
      found.push({
        service,
        evidence: {
          detector: NAME,
          ...culprit,
          score: scoreOf(g.occurrences, ratio, culprit.role),
          summary: `${what.charAt(0).toUpperCase()}${what.slice(1)}${ratio === null && firstSeen ? `, first at ${clock(firstSeen)} UTC` : ''}${g.top_frame ? ` (${cut(g.top_frame, 100)})` : ''}.`,
          ...(ratio === null && firstSeen ? { onsetMs: firstSeen } : {}),
          figures,
          links: [
            searchLink('Lines of this error', `severity>=WARN service.name=${quote(service)} ${templateTerms(g.normalized_message.replace(/<(n|str|hex|uuid)>/g, WILDCARD)).map(quote).join(' ')}`.trim(), w),
            ...(g.sample_trace_id ? [traceLink('A trace with this error', g.sample_trace_id)] : []),
          ],
          nextStep: nextStepOf(culprit, service),
        },
      });
    }
    return onePerCulprit(found.map((f) => f.evidence)).slice(0, MAX_EVIDENCE);
  },
};

/**
 * The strongest evidence per culprit: a failure relayed by several callers, or seen both as a log template
 * and an error group, is one finding (the others are counted in it), so it does not crowd out other culprits.
 */
function onePerCulprit(list: Evidence[]): Evidence[] {
  const by = new Map<string, Evidence[]>();
  for (const e of [...list].sort((a, b) => b.score - a.score)) {
    const k = `${e.category}\u0000${e.component}`;
    by.set(k, [...(by.get(k) ?? []), e]);
  }
  return [...by.values()].map(([top, ...rest]) => {
    const e = top as Evidence;
    if (!rest.length) return e;
    const services = [...new Set([e, ...rest].flatMap((x) => x.services))];
    return { ...e, services, summary: `${e.summary} (${rest.length} more ${rest.length > 1 ? 'patterns point' : 'pattern points'} here)`, figures: { ...e.figures, other_patterns: rest.length } };
  });
}

/** What to do next about a culprit a log pattern points at. */
function nextStepOf(c: Culprit, service: string): string {
  switch (c.category) {
    case 'database':
      return `Check ${c.component}: connections checked out and never returned, or the database refusing connections; reset the pool or restart ${service} to free it.`;
    case 'resource':
      return `Free space on ${c.component} (spool, logs, temp files) and find what fills it.`;
    case 'availability':
      return `Check that ${c.component} is running and accepts connections; restart it if it stopped.`;
    case 'dependency':
      return `Look at ${c.component}'s latency and errors over the window; the calls from ${service} time out or fail there.`;
    default:
      return `Open the lines of this pattern and a trace of one; if it began with a deploy of ${service}, roll it back.`;
  }
}
