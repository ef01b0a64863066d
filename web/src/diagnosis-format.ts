/**
 * Pure formatting for the diagnosis panel (components/IncidentDiagnosis.tsx): category labels, confidence,
 * evidence figures with the unit their key names, the compared windows, the detector line and when to poll.
 * No React here, so every rule is unit-tested (diagnosis-format.test.ts).
 */
import type { DiagnosisCategory, DiagnosisResponse } from '../../src/api/contract.ts';
import { fmtBytes, fmtMs, fmtNumber } from './format.ts';

/** How often a running report is polled. */
export const POLL_MS = 2000;

/** What each category means, one phrase (the badge's title). */
export const CATEGORY_HINT: Record<DiagnosisCategory, string> = {
  change: 'a deploy or other change shortly before the onset',
  configuration: 'a configuration change, feature flag or out-of-band write',
  database: 'a database statement or connection pool',
  dependency: 'a downstream dependency answering slowly or failing',
  resource: 'a saturated host or process resource',
  code: 'a defect in one operation',
  capacity: 'load beyond capacity',
  availability: 'a service that is down or stopped reporting',
};

/** A 0..1 confidence as a whole percentage, clamped (NaN reads as 0). */
export function confidencePercent(confidence: number): number {
  if (!Number.isFinite(confidence)) return 0;
  return Math.round(Math.min(1, Math.max(0, confidence)) * 100);
}

/** How strong a confidence is, for the bar's colour: ≥ 70 % high, ≥ 40 % medium, else low. */
export function confidenceLevel(confidence: number): 'high' | 'medium' | 'low' {
  const p = confidencePercent(confidence);
  return p >= 70 ? 'high' : p >= 40 ? 'medium' : 'low';
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
const plain = (v: number) => (Number.isInteger(v) ? new Intl.NumberFormat('en-US').format(v) : fmtNumber(v));

/**
 * One evidence figure as text, its unit taken from how its key ends (detectors name figures
 * `baseline_p95_ms`, `window_bytes`, `error_pct`, `ratio`): `_ms` and `_s`/`_seconds` as durations,
 * `_bytes` in binary units, `_pct`/`_percent` as a percentage already scaled, `_share`/`_fraction`/
 * `_utilization` as a 0..1 share in percent, `ratio`/`_factor`/`_x` as a multiplier, `_per_s`/`_rps` as a
 * rate. Anything else is the number as it came; strings pass through untouched (an RFC 3339 moment
 * reads as local time); null is an em dash.
 */
export function figureText(key: string, value: number | string | null | undefined, now = Date.now()): string {
  if (value === null || value === undefined) return '—';
  // A moment (RFC 3339) reads as local time, like every other time on the page.
  if (typeof value === 'string') return RFC3339.test(value) ? clockText(value, now) : value;
  if (!Number.isFinite(value)) return String(value);
  const k = key.toLowerCase();
  const ends = (...suffixes: string[]) => suffixes.some((s) => k === s.replace(/^_/, '') || k.endsWith(s));
  // Rates before durations: `calls_per_s` ends like a duration in seconds.
  if (ends('_per_s', '_per_second', '_rps')) return `${fmtNumber(value)}/s`;
  if (ends('_ms', '_millis', '_milliseconds')) return fmtMs(value);
  if (ends('_s', '_sec', '_seconds')) return fmtMs(value * 1000);
  if (ends('_bytes', '_by')) return fmtBytes(value);
  if (ends('_pct', '_percent')) return `${fmtNumber(value)} %`;
  if (ends('_share', '_fraction', '_utilization', '_util')) return `${fmtNumber(value * 100)} %`;
  if (ends('ratio', '_factor', '_x') && !k.endsWith('_ratio')) return `${fmtNumber(value)}×`;
  return plain(value);
}

/** The figures of a piece of evidence as `[key, text, raw]` rows, in the detector's order. */
export function figureRows(figures: Record<string, number | string | null> | null | undefined, now = Date.now()): [string, string, string][] {
  return Object.entries(figures ?? {}).map(([k, v]) => [k, figureText(k, v, now), v === null ? 'null' : String(v)]);
}

/** "45s", "12m 30s", "2h 5m", "3d 2h": a length of time. */
export function lengthText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

const pad = (n: number) => String(n).padStart(2, '0');
const sameDay = (a: Date, b: Date) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** A moment as local `HH:MM:SS`, with `MM-DD ` before it when it is not on the day of `now`. */
export function clockText(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return sameDay(d, new Date(now)) ? t : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
}

/** A window as `10:02:00 → 10:14:30 (12m 30s)` (the end without its date when both fall on one day). */
export function windowText(w: { from: string; to: string }, now = Date.now()): string {
  const from = new Date(w.from);
  const to = new Date(w.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return `${w.from} → ${w.to}`;
  const end = sameDay(from, to) ? clockText(w.to, to.getTime()) : clockText(w.to, now);
  return `${clockText(w.from, now)} → ${end} (${lengthText(to.getTime() - from.getTime())})`;
}

/** The time range of a window as URL parameters (`from`/`to` epoch ms, as web/src/time.ts reads them). */
export function windowRange(w: { from: string; to: string }): string {
  return `from=${Math.floor(Date.parse(w.from))}&to=${Math.ceil(Date.parse(w.to))}`;
}

/** A detector's run as a short line: `operations 120 ms · 3 findings`, `logs timeout after 20 s`. */
export function detectorText(d: DiagnosisResponse['detectors'][number]): string {
  const ms = fmtMs(d.ms);
  if (d.state === 'ok') return `${d.name} ${ms} · ${d.evidence === 0 ? 'nothing' : d.evidence === 1 ? '1 finding' : `${d.evidence} findings`}`;
  return `${d.name} ${d.state === 'timeout' ? 'timed out' : 'failed'} after ${ms}`;
}

/** The detectors' summary: `9 detectors, 2 with findings, 1 failed`. */
export function detectorsSummary(detectors: DiagnosisResponse['detectors']): string {
  if (detectors.length === 0) return 'no detectors ran';
  const found = detectors.filter((d) => d.state === 'ok' && d.evidence > 0).length;
  const failed = detectors.filter((d) => d.state === 'failed').length;
  const timedOut = detectors.filter((d) => d.state === 'timeout').length;
  const parts = [`${detectors.length} ${detectors.length === 1 ? 'detector' : 'detectors'}`, `${found} with findings`];
  if (failed) parts.push(`${failed} failed`);
  if (timedOut) parts.push(`${timedOut} timed out`);
  return parts.join(', ');
}

/** The state badge's text and class: `running` warn, `ready` ok, `failed` bad, none yet muted. */
export function stateBadge(report: Pick<DiagnosisResponse, 'state' | 'hypotheses'> | null): { text: string; cls: string } {
  if (!report) return { text: 'not run', cls: '' };
  if (report.state === 'running') return { text: 'running', cls: 'warn' };
  if (report.state === 'failed') return { text: 'failed', cls: 'bad' };
  const n = report.hypotheses.length;
  return { text: n === 0 ? 'ready · no likely cause' : `ready · ${n} ${n === 1 ? 'hypothesis' : 'hypotheses'}`, cls: 'ok' };
}

/** How long the report took, or has been running: `took 4.2 s`, `running for 3s`. */
export function elapsedText(report: Pick<DiagnosisResponse, 'state' | 'startedAt' | 'finishedAt'>, now = Date.now()): string {
  const start = Date.parse(report.startedAt);
  if (Number.isNaN(start)) return '';
  if (report.finishedAt) return `took ${fmtMs(Math.max(0, Date.parse(report.finishedAt) - start))}`;
  return report.state === 'running' ? `running for ${lengthText(now - start)}` : '';
}

/** Why the report ran, as words. */
export function triggerText(trigger: DiagnosisResponse['trigger']): string {
  return trigger === 'opened' ? 'when the incident opened' : 'on request';
}

/**
 * When to ask for the report again: every {@link POLL_MS} while it runs; while none exists yet only for
 * an incident opened in the last minute (its automatic diagnosis may still be on its way); else never.
 */
export function pollInterval(report: Pick<DiagnosisResponse, 'state'> | null, notFound: boolean, incidentOpenedAt: string, now = Date.now()): number | null {
  if (report?.state === 'running') return POLL_MS;
  if (!report && notFound && now - Date.parse(incidentOpenedAt) < 60_000) return POLL_MS * 2;
  return null;
}

/** Whether a link of evidence is a path of Vigil's UI (the only kind the panel renders as a link). */
export function isUiPath(href: string): boolean {
  return href.startsWith('/') && !href.startsWith('//') && !href.startsWith('/\\');
}
