/**
 * Post-resolution verification, the pure part: which checks a resolved incident must pass and how each
 * stands given what was observed. The job (verification.ts) gathers the observations — the rule
 * manager's alerts, the services' traffic through the query service, the monitors' states — and
 * records what this module decides. Nothing here reads a clock or the store.
 *
 *   alert      each alert linked to the incident stays clear: firing again after verification began
 *              fails at once; still firing since before it must clear by the end
 *   error_rate each affected service's share of failed server spans (status error or HTTP 5xx) over the
 *              window so far stays within max(baseline × 1.5, baseline + 2 points), judged from
 *              MIN_REQUESTS requests on; the baseline is the hour before the incident began
 *   latency    the same for p95 of server spans: within max(baseline × 1.5, baseline + 100 ms)
 *   monitor    every synthetic monitor of the affected systems and services passes a check made after
 *              verification began (down fails at once)
 *
 * All passing at the end → verified; any failed → failed (the reason names the first).
 */
import type { IncidentView, LinkedAlert, VerificationCheck } from './reducer.ts';

/** Requests a service must have served in the window before its error rate and p95 are judged. */
export const MIN_REQUESTS = 20;
/** How much worse than its baseline a figure may be: × this factor … */
export const TOLERANCE_FACTOR = 1.5;
/** … or plus this much, whichever is larger (an error-rate share; p95 milliseconds). */
export const ERROR_RATE_MARGIN = 0.02;
export const LATENCY_MARGIN_MS = 100;
/** Without a baseline (no traffic before the incident) an error rate above this fails. */
export const DEFAULT_ERROR_RATE_LIMIT = 0.05;

/** A service's server traffic over a window. */
export interface TrafficStats {
  requests: number;
  errors: number;
  /** p95 of server span durations (ms); null without requests. */
  p95Ms: number | null;
}

/** An alert instance as the rule manager holds it now. */
export interface AlertNow {
  state: 'inactive' | 'pending' | 'firing' | 'resolved';
  /** When it last started firing (epoch ms). */
  firedAt: number | null;
}

/** A synthetic monitor as verification sees it. */
export interface MonitorNow {
  id: string;
  name: string;
  system: string;
  /** What it checks: URL, host, description… (matched against the incident's services). */
  targets: string[];
  state: 'pending' | 'up' | 'degraded' | 'down';
  /** Its last check (epoch ms), null when it never ran. */
  lastCheckAt: number | null;
  /** What the last check said, for the detail. */
  lastResult?: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const ms = (x: number): string => `${Math.round(x)} ms`;

/** The highest error share that still passes, given the baseline's. */
export function errorRateLimit(baseline: TrafficStats | null): number {
  if (!baseline || baseline.requests < MIN_REQUESTS) return DEFAULT_ERROR_RATE_LIMIT;
  const rate = baseline.errors / baseline.requests;
  return Math.min(1, Math.max(rate * TOLERANCE_FACTOR, rate + ERROR_RATE_MARGIN));
}

/** The highest p95 that still passes given the baseline's, or null when there is nothing to compare with. */
export function latencyLimit(baseline: TrafficStats | null): number | null {
  if (!baseline || baseline.requests < MIN_REQUESTS || baseline.p95Ms === null) return null;
  return Math.max(baseline.p95Ms * TOLERANCE_FACTOR, baseline.p95Ms + LATENCY_MARGIN_MS);
}

/** The check name of a linked alert; `alertname` alone unless the incident links several instances of one rule. */
export function alertCheckName(alert: LinkedAlert, all: readonly LinkedAlert[]): string {
  const name = alert.labels.alertname ?? alert.ruleId;
  const twins = all.filter((a) => (a.labels.alertname ?? a.ruleId) === name);
  if (twins.length < 2) return `alert:${name}`;
  const which = alert.labels.service_name ?? alert.labels.instance ?? alert.fingerprint.slice(0, 8);
  return `alert:${name}:${which}`;
}

/** Judges one linked alert: fired again since `startedAt` fails; still firing from before is pending until `final`. */
export function alertCheck(alert: LinkedAlert, all: readonly LinkedAlert[], now: AlertNow | undefined, startedAt: number, final: boolean): VerificationCheck {
  const name = alertCheckName(alert, all);
  const href = `/alerts/rules/${encodeURIComponent(alert.ruleId)}/edit`;
  const base = { name, kind: 'alert' as const, href };
  // The incident's own record counts too: correlation links an alert that fires again to the incident.
  const firing = now ? now.state === 'firing' : alert.state === 'firing';
  const firedAt = Math.max(now?.firedAt ?? 0, alert.state === 'firing' ? alert.firedAt : 0);
  if (firing && firedAt >= startedAt) return { ...base, state: 'failed', detail: `fired again at ${new Date(firedAt).toISOString()} during verification` };
  if (firing) {
    return final
      ? { ...base, state: 'failed', detail: `still firing at the end of verification (since ${new Date(firedAt).toISOString()})` }
      : { ...base, state: 'pending', detail: `still firing since ${new Date(firedAt).toISOString()}; must clear before the window ends` };
  }
  return { ...base, state: 'passing', detail: now ? `clear (${now.state})` : 'clear (rule no longer loaded)' };
}

/** Judges a service's error rate over the window so far against its baseline. */
export function errorRateCheck(service: string, baseline: TrafficStats | null, current: TrafficStats, final: boolean, href?: string): VerificationCheck {
  const limit = errorRateLimit(baseline);
  const base = { name: `error_rate:${service}`, kind: 'error_rate' as const, ...(href ? { href } : {}) };
  const was = baseline && baseline.requests >= MIN_REQUESTS ? `baseline ${pct(baseline.errors / baseline.requests)} of ${baseline.requests}` : 'no baseline traffic';
  if (current.requests < MIN_REQUESTS) {
    const detail = `${current.requests} requests so far (judged from ${MIN_REQUESTS}); limit ${pct(limit)}, ${was}`;
    // Too little traffic to judge by the end: the other checks decide (nothing here says it failed).
    return { ...base, state: final ? 'passing' : 'pending', detail: final ? `${detail}; too little traffic to judge` : detail };
  }
  const rate = current.errors / current.requests;
  const detail = `${pct(rate)} errors (${current.errors} of ${current.requests}); limit ${pct(limit)}, ${was}`;
  return { ...base, state: rate > limit ? 'failed' : 'passing', detail };
}

/** Judges a service's p95 over the window so far against its baseline. */
export function latencyCheck(service: string, baseline: TrafficStats | null, current: TrafficStats, final: boolean, href?: string): VerificationCheck {
  const limit = latencyLimit(baseline);
  const base = { name: `p95:${service}`, kind: 'latency' as const, ...(href ? { href } : {}) };
  if (limit === null) return { ...base, state: 'passing', detail: 'no baseline traffic in the hour before the incident; not judged' };
  const was = `baseline ${ms(baseline!.p95Ms!)}`;
  if (current.requests < MIN_REQUESTS || current.p95Ms === null) {
    const detail = `${current.requests} requests so far (judged from ${MIN_REQUESTS}); limit ${ms(limit)}, ${was}`;
    return { ...base, state: final ? 'passing' : 'pending', detail: final ? `${detail}; too little traffic to judge` : detail };
  }
  return { ...base, state: current.p95Ms > limit ? 'failed' : 'passing', detail: `p95 ${ms(current.p95Ms)} over ${current.requests} requests; limit ${ms(limit)}, ${was}` };
}

/** Whether `text` names `service` as a whole word (`http://checkout:8080/health` names `checkout`, not `check`). */
export function namesService(text: string, service: string): boolean {
  if (!service) return false;
  const t = text.toLowerCase();
  const s = service.toLowerCase();
  for (let i = t.indexOf(s); i >= 0; i = t.indexOf(s, i + 1)) {
    const before = t[i - 1];
    const after = t[i + s.length];
    const boundary = (c: string | undefined) => c === undefined || !/[a-z0-9_-]/.test(c);
    if (boundary(before) && boundary(after)) return true;
  }
  return false;
}

/** The monitors of an incident: of one of its systems, named by a linked alert, or whose id, name or target names one of its services. */
export function incidentMonitors(view: Pick<IncidentView, 'systems' | 'services' | 'alerts'>, monitors: readonly MonitorNow[]): MonitorNow[] {
  const named = new Set(view.alerts.map((a) => a.labels.monitor).filter((m): m is string => !!m));
  return monitors.filter(
    (m) =>
      view.systems.includes(m.system) ||
      named.has(m.id) ||
      view.services.some((s) => [m.id, m.name, ...m.targets].some((t) => namesService(t, s))),
  );
}

/** Judges a monitor: only a check made since `startedAt` counts; down fails. */
export function monitorCheck(m: MonitorNow, startedAt: number, final: boolean): VerificationCheck {
  const base = { name: `monitor:${m.name}`, kind: 'monitor' as const, href: `/monitors/${encodeURIComponent(m.id)}` };
  const result = m.lastResult ? `: ${m.lastResult}` : '';
  if (m.lastCheckAt === null || m.lastCheckAt < startedAt) {
    return final
      ? { ...base, state: 'failed', detail: 'no check since verification began' }
      : { ...base, state: 'pending', detail: `waiting for a check since verification began (now ${m.state})` };
  }
  const at = new Date(m.lastCheckAt).toISOString();
  if (m.state === 'down') return { ...base, state: 'failed', detail: `down at ${at}${result}` };
  if (m.state === 'pending') return final ? { ...base, state: 'failed', detail: `not up at the end (pending)${result}` } : { ...base, state: 'pending', detail: `pending${result}` };
  return { ...base, state: 'passing', detail: `${m.state} at ${at}${result}` };
}

/** Where verification stands: still running, verified (everything passed at the end) or failed (with the reason). */
export type VerificationOutcome = { outcome: 'running' } | { outcome: 'verified' | 'failed'; reason: string };

/** The outcome of a set of checks; `final` once the window has ended. */
export function outcomeOf(checks: readonly VerificationCheck[], final: boolean): VerificationOutcome {
  const failed = checks.filter((c) => c.state === 'failed');
  if (failed.length) {
    const first = failed[0]!;
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more check${failed.length > 2 ? 's' : ''})` : '';
    return { outcome: 'failed', reason: `${first.name} failed: ${first.detail}${more}` };
  }
  if (!final) return { outcome: 'running' };
  const pending = checks.filter((c) => c.state === 'pending');
  if (pending.length) return { outcome: 'failed', reason: `${pending[0]!.name} did not pass before the window ended: ${pending[0]!.detail}` };
  return { outcome: 'verified', reason: checks.length ? `all ${checks.length} checks passed for the verification window` : 'nothing to check: no alerts, services or monitors are linked' };
}
