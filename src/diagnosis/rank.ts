/**
 * The ranker (issue 14 §4, docs/diagnosis.md "Ranking"): evidence of every detector → hypotheses, most likely
 * first. Pure: no I/O, the same input gives the same ranking.
 *
 * 1. Merge: evidence about one culprit (same category + component) is one hypothesis; evidence naming one
 *    culprit two ways is merged too: a whole host (`host X`) into that host's resource (`host X cpu`), a
 *    service's disk into its host's disk, a schema statement into the slow statement on its table, an
 *    over-represented route into its operation, evidence naming a version into that deploy.
 * 2. Confidence: noisy-or of the strongest score each detector gave (several detectors agreeing raise it;
 *    one detector repeating itself does not), capped below 1; symptom-only hypotheses weigh less, and so
 *    does a change nothing else points at (deploys happen all day).
 * 3. Explanation: a hypothesis that explains another ranks above it, and the explained one's confidence
 *    drops below the explainer's. A cause explains what happens at the same place with a less basic
 *    category (a deploy just before the onset explains its service's slow statement, errors and latency; a
 *    process's saturation its host's) and what happens upstream of it in the call graph (a failing
 *    dependency explains its callers' time-outs: the symptom seen only at callers is not the cause).
 */
import { downstreamOf } from './topology.ts';
import type { Category, DiagnosisScope, Evidence, Hypothesis, ServiceEdge } from './types.ts';

/** What the ranker knows besides the evidence. */
export interface RankContext {
  scope: DiagnosisScope;
  edges: readonly ServiceEdge[];
}

/** At most this many hypotheses are kept. */
export const MAX_HYPOTHESES = 10;
/** Hypotheses less likely than this are dropped. */
export const MIN_CONFIDENCE = 0.15;
/** No confidence reaches certainty. */
const MAX_CONFIDENCE = 0.99;
/** A symptom-only hypothesis weighs this much of its merged score (causes outrank symptoms at equal strength). */
const SYMPTOM_WEIGHT = 0.75;
/** A change to a service that shows no trouble of its own, seen by one detector only, weighs this much. */
const QUIET_CHANGE_WEIGHT = 0.6;
/** A hypothesis weaker than this explains nothing (noise must not push a clear finding down). */
const MIN_EXPLAINER = 0.3;
/** …nor one that is much weaker than what it would explain. */
const EXPLAINER_RATIO = 0.4;
/** What it explains keeps at most this share of an explainer's confidence (so numbers read in rank order). */
const EXPLAINED_SHARE = 0.95;
/** A cause that began this long after a finding's onset cannot explain it. */
const ONSET_SLACK_MS = 2 * 60_000;
/** A change this long before the onset is no longer "just before" it. */
const CHANGE_LOOKBACK_MS = 60 * 60_000;

/**
 * How basic a category is at one place: a change there explains a saturated resource or a slow statement
 * there, which explain the place answering its callers badly, which explains an operation's defect.
 */
const TIER: Record<Category, number> = { change: 0, configuration: 0, resource: 1, database: 1, availability: 1, capacity: 1, dependency: 2, code: 3 };
const SYMPTOM_TIER = 4;

/** Per-category next steps, when no evidence says better. */
const NEXT_STEP: Record<Category, string> = {
  change: 'Roll the deploy back (or forward with a fix) and watch the error rate and p95 return to the baseline.',
  configuration: 'Revert the configuration key to its previous value and confirm the errors stop.',
  database: "Look at the statement's plan (EXPLAIN ANALYZE) and the indexes of its table; compare with the baseline's duration.",
  dependency: "Check the dependency's health and its own recent changes; consider a circuit breaker or a shorter time-out at the callers.",
  resource: 'Free or scale the resource (stop the runaway process, clean the disk, add capacity) and watch it fall below saturation.',
  code: "Open the failing operation's traces and logs and fix or roll back the code path.",
  capacity: 'Scale the service out or shed load (rate-limit the heaviest callers) until the request rate fits its capacity.',
  availability: "Bring the service back (restart it, check its process, its host and its readiness probe) and confirm it reports again.",
};

interface Group {
  category: Category;
  component: string;
  evidence: Evidence[];
  /** Merged score before explanation. */
  base: number;
  /** Score after explanation: what ranks, and the confidence reported. */
  key: number;
  cause: boolean;
  /** Where the culprit lives: the services whose trouble it is. */
  places: string[];
  /** For a change: every service its evidence ties to it (a caller's fan-out names the callee it floods). */
  reach: string[];
  /** Earliest onset a detector reported. */
  onsetMs?: number;
}

const clamp = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const keyOf = (category: string, component: string): string => `${category}\u0000${component}`;

/** Turns evidence into hypotheses, most likely first (rank 1). */
export function rank(evidence: readonly Evidence[], ctx: RankContext): Hypothesis[] {
  const groups = mergeGroups(evidence);
  for (const g of groups) score(g);
  discountQuietChanges(groups, ctx.edges);
  explain(groups, ctx);
  return groups
    .filter((g) => g.key >= MIN_CONFIDENCE)
    .sort((a, b) => b.key - a.key || Number(b.cause) - Number(a.cause) || b.evidence.length - a.evidence.length || a.component.localeCompare(b.component))
    .slice(0, MAX_HYPOTHESES)
    .map((g, i) => toHypothesis(g, i + 1));
}

/** Step 1: one group per culprit, then the merges of evidence that names one culprit two ways. */
function mergeGroups(evidence: readonly Evidence[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const e of evidence) {
    if (!e || !e.component) continue;
    const k = keyOf(e.category, e.component);
    let g = byKey.get(k);
    if (!g) byKey.set(k, (g = { category: e.category, component: e.component, evidence: [], base: 0, key: 0, cause: false, places: [], reach: [] }));
    g.evidence.push({ ...e, score: clamp(e.score) });
  }
  const groups = [...byKey.values()];
  const strongest = (list: Group[]): Group | undefined => list.sort((a, b) => maxScore(b) - maxScore(a))[0];

  // Evidence about a whole host joins the strongest resource hypothesis of that host (cpu, memory, disk …).
  for (const g of [...groups]) {
    if (g.category !== 'resource' || !/^host \S+$/.test(g.component)) continue;
    const into = strongest(groups.filter((o) => o !== g && o.category === 'resource' && o.component.startsWith(`${g.component} `)));
    if (into) absorb(groups, into, g);
  }
  // A disk seen from one service (`<service> disk`, its host unknown) is that service's host's disk.
  for (const g of [...groups]) {
    const m = g.category === 'resource' ? /^(\S+) disk$/.exec(g.component) : null;
    if (!m || m[1] === 'host') continue;
    const into = strongest(groups.filter((o) => o !== g && o.category === 'resource' && /^host \S+ disk /.test(o.component) && o.evidence.some((e) => e.services.includes(m[1] as string))));
    if (into) absorb(groups, into, g);
  }
  // A schema statement (a dropped index, an altered column) joins the strongest statement on its table that
  // got slow: one story, named by the statement responders see and corroborated by the DDL that explains it.
  for (const g of [...groups]) {
    if (g.category !== 'database' || !groups.includes(g)) continue;
    const tables = g.evidence.filter(isSchemaChange).map(tableOf).filter((t): t is string => !!t);
    if (tables.length === 0) continue;
    const into = strongest(groups.filter((o) => o !== g && o.category === 'database' && !o.evidence.some(isSchemaChange) && tables.some((t) => readsTable(o.component, t))));
    if (into) absorb(groups, into, g);
  }
  // An over-represented route (`<service> http.route=<route>`) is that operation's finding.
  for (const g of [...groups]) {
    const m = g.category === 'code' ? /^(\S+) http\.route=(.+)$/.exec(g.component) : null;
    if (!m) continue;
    const [, service, route] = m as unknown as [string, string, string];
    const into = strongest(groups.filter((o) => o !== g && o.category === 'code' && o.component.startsWith(`${service} `) && (o.component.endsWith(` ${route}`) || o.component === `${service} ${route}`)));
    if (into) absorb(groups, into, g);
  }
  // A deploy absorbs evidence naming its version (e.g. slow spans over-represented at service.version=3.1.0).
  for (const change of groups.filter((g) => g.category === 'change')) {
    const deploy = parseDeploy(change);
    if (!deploy) continue;
    for (const g of [...groups]) {
      if (g === change || !groups.includes(g)) continue;
      const named = g.evidence.filter((e) => namesVersion(e, deploy.service, deploy.version));
      if (named.length === 0) continue;
      change.evidence.push(...named);
      g.evidence = g.evidence.filter((e) => !named.includes(e));
      if (g.evidence.length === 0) groups.splice(groups.indexOf(g), 1);
    }
  }
  return groups;
}

function absorb(groups: Group[], into: Group, from: Group): void {
  into.evidence.push(...from.evidence);
  groups.splice(groups.indexOf(from), 1);
}

const maxScore = (g: Group): number => Math.max(0, ...g.evidence.map((e) => e.score));

/** `<service> <version>` of a deploy hypothesis (the service is the evidence's first service when it has one). */
function parseDeploy(g: Group): { service: string; version: string } | null {
  const service = g.evidence.find((e) => e.services[0] && g.component.startsWith(`${e.services[0]} `))?.services[0];
  if (service) return { service, version: g.component.slice(service.length + 1).trim() };
  const at = g.component.lastIndexOf(' ');
  return at > 0 ? { service: g.component.slice(0, at), version: g.component.slice(at + 1) } : null;
}

/** Whether evidence points at `version` of `service`: its figures or component name the version attribute. */
function namesVersion(e: Evidence, service: string, version: string): boolean {
  if (!version || (e.services.length > 0 && !e.services.includes(service))) return false;
  const f = e.figures ?? {};
  if (String(f.attribute ?? f.key ?? '') === 'service.version' && String(f.value ?? '') === version) return true;
  if (Object.entries(f).some(([k, v]) => /(^|[._])version$/.test(k) && k !== 'previous_version' && String(v) === version)) return true;
  return new RegExp(`service\\.version\\s*[=:]\\s*"?${escapeRegExp(version)}"?(\\s|$|,)`).test(e.component);
}

const SCHEMA_OPS = /^(ALTER|DROP|CREATE|TRUNCATE)\b/i;

/** Evidence of a schema statement (DDL): its component or its `operation` figure says so. */
function isSchemaChange(e: Evidence): boolean {
  return e.category === 'database' && (SCHEMA_OPS.test(e.component) || SCHEMA_OPS.test(String(e.figures?.operation ?? '')));
}

/** The table a schema statement touched: its figures, else `ON <table>` / `TABLE <table>` in the statement. */
function tableOf(e: Evidence): string | undefined {
  const f = e.figures ?? {};
  const named = f.table ?? f['db.collection.name'];
  if (named) return String(named);
  return /\b(?:ON|TABLE)\s+(?:ONLY\s+)?"?([\w.]+)"?/i.exec(e.component)?.[1];
}

/** Whether a statement reads or writes `table`. */
function readsTable(statement: string, table: string): boolean {
  return new RegExp(`\\b(FROM|JOIN|UPDATE|INTO)\\s+"?${escapeRegExp(table)}"?(\\s|$|,|\\))`, 'i').test(statement);
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Step 2: the merged score (noisy-or over detectors, each at its strongest), the role and the place. */
function score(g: Group): void {
  g.evidence.sort((a, b) => Number(b.role === 'cause') - Number(a.role === 'cause') || b.score - a.score);
  const perDetector = new Map<string, number>();
  for (const e of g.evidence) perDetector.set(e.detector, Math.max(perDetector.get(e.detector) ?? 0, e.score));
  const merged = 1 - [...perDetector.values()].reduce((p, s) => p * (1 - Math.min(MAX_CONFIDENCE, s)), 1);
  g.cause = g.evidence.some((e) => e.role === 'cause');
  g.base = Math.min(MAX_CONFIDENCE, merged * (g.cause ? 1 : SYMPTOM_WEIGHT));
  g.key = g.base;
  const onsets = g.evidence.map((e) => e.onsetMs).filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  g.onsetMs = onsets.length ? Math.min(...onsets) : undefined;
  g.places = placesOf(g);
  g.reach = TIER[g.category] === 0 ? [...new Set([...g.places, ...g.evidence.filter((e) => e.role === 'cause').flatMap((e) => e.services)])] : g.places;
}

/** The services whose trouble a hypothesis is: the callee for a dependency, the service for the rest. */
function placesOf(g: Group): string[] {
  if (g.category === 'dependency' || g.category === 'availability') return [g.component];
  if (g.category === 'resource' && g.component.startsWith('host ')) return [...new Set(g.evidence.flatMap((e) => e.services))];
  const first = g.evidence.map((e) => e.services[0]).find((s) => !!s);
  if (first) return [first];
  // `<service> <rest>` components name their service first.
  return g.category === 'database' ? [] : [g.component.split(' ')[0] as string];
}

/**
 * Deploys happen all day: a change is a strong suspect when its service shows trouble or another detector
 * ties it to the failures (spans of the new version going bad). Trouble at a service is a cause hypothesis
 * there, or symptoms there that no cause further down its calls accounts for (a caller's errors are
 * everywhere upstream of the real cause). A change that only happened keeps a share of its score.
 */
function discountQuietChanges(groups: Group[], edges: readonly ServiceEdge[]): void {
  const causes = groups.filter((g) => g.cause && TIER[g.category] > 0);
  const troubled = new Set(causes.flatMap((g) => g.places));
  for (const g of groups) {
    if (g.cause) continue;
    for (const p of g.places) {
      const below = downstreamOf(p, edges);
      if (!causes.some((c) => c.places.some((q) => below.has(q)))) troubled.add(p);
    }
  }
  for (const g of groups) {
    if (TIER[g.category] !== 0) continue;
    const detectors = new Set(g.evidence.map((e) => e.detector));
    if (detectors.size > 1 || g.places.some((p) => troubled.has(p))) continue;
    g.base *= QUIET_CHANGE_WEIGHT;
    g.key = g.base;
  }
}

const tierOf = (g: Group): number => (g.cause ? TIER[g.category] : SYMPTOM_TIER);

/** Step 3: explainers rank above what they explain; repeated until stable (bounded, in case of call cycles). */
function explain(groups: Group[], ctx: RankContext): void {
  const below = new Map<string, Set<string>>();
  const downstream = (s: string): Set<string> => {
    let d = below.get(s);
    if (!d) below.set(s, (d = downstreamOf(s, ctx.edges)));
    return d;
  };
  for (let pass = 0; pass < groups.length; pass++) {
    let moved = false;
    for (const a of groups) {
      for (const b of groups) {
        if (a === b || !explains(a, b, ctx, downstream)) continue;
        const cap = a.key * EXPLAINED_SHARE;
        if (b.key > cap) (b.key = cap, (moved = true));
      }
    }
    if (!moved) break;
  }
}

function explains(a: Group, b: Group, ctx: RankContext, downstream: (s: string) => Set<string>): boolean {
  if (!a.cause || a.key < MIN_EXPLAINER || a.key < EXPLAINER_RATIO * b.base) return false;
  // A rollback returns to a state that ran well before: it explains no new trouble.
  if (a.evidence.every((e) => e.figures?.kind === 'rollback')) return false;
  if (a.places.length === 0 || b.places.length === 0) return false;
  const ta = tierOf(a);
  const tb = tierOf(b);
  // Changes are never pushed down: they are what people roll back, and the ranking must show them.
  if (tb === 0) return false;
  const onsetB = b.onsetMs ?? ctx.scope.onsetMs;
  if (a.onsetMs !== undefined && a.onsetMs > onsetB + ONSET_SLACK_MS) return false;
  if (ta === 0 && a.onsetMs !== undefined && a.onsetMs < ctx.scope.onsetMs - CHANGE_LOOKBACK_MS) return false;
  // A process's own saturation explains its host's (`orders cpu` → `host node-a cpu`, orders on node-a).
  const processOfHost = /^host \S+ (cpu|memory)/.exec(b.component)?.[1];
  if (a.category === 'resource' && b.category === 'resource' && processOfHost && a.component === `${a.places[0]} ${processOfHost}`) return b.places.includes(a.places[0] as string);
  const samePlace = b.places.every((p) => a.reach.includes(p));
  if (samePlace) return ta < tb;
  // Seen only upstream (at callers) of a's place: a explains how the callers answer (their dependency
  // findings, defects and symptoms), not a resource or statement of their own.
  return tb >= TIER.dependency && b.places.every((p) => a.places.some((q) => downstream(p).has(q)));
}

function toHypothesis(g: Group, rankNo: number): Hypothesis {
  const top = g.evidence[0] as Evidence;
  const others = [...new Set(g.evidence.map((e) => e.detector))].filter((d) => d !== top.detector);
  const summary = others.length ? `${top.summary} (corroborated by ${others.length} detector${others.length > 1 ? 's' : ''}: ${others.join(', ')})` : top.summary;
  const services = [...new Set([...g.places, ...g.evidence.flatMap((e) => e.services)])].filter((s) => !!s);
  return {
    rank: rankNo,
    category: g.category,
    component: g.component,
    services,
    confidence: Math.round(Math.min(MAX_CONFIDENCE, g.key) * 100) / 100,
    summary,
    evidence: g.evidence,
    next_step: g.evidence.find((e) => e.nextStep)?.nextStep ?? NEXT_STEP[g.category],
  };
}
