/** Formatting of numbers, durations, sizes and times for display. */

/** Units a value can carry. */
export type Unit = 'ms' | 'percent' | 'ratio' | 'bytes' | 'rps' | 'count' | 'none' | string;

const nf = (digits: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });

/** A compact number: 950, 1.2k, 3.4M. */
export function fmtNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${nf(1).format(v / 1e9)}G`;
  if (a >= 1e6) return `${nf(1).format(v / 1e6)}M`;
  if (a >= 1e4) return `${nf(1).format(v / 1e3)}k`;
  if (a >= 100) return nf(0).format(v);
  if (a >= 1) return nf(2).format(v);
  if (a === 0) return '0';
  return nf(3).format(v);
}

/** Milliseconds as µs, ms, s or min. */
export function fmtMs(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0 ms';
  if (a < 1) return `${nf(0).format(v * 1000)} µs`;
  if (a < 1000) return `${nf(a < 10 ? 1 : 0).format(v)} ms`;
  if (a < 60_000) return `${nf(2).format(v / 1000)} s`;
  return `${nf(1).format(v / 60_000)} min`;
}

/** Bytes in binary units. */
export function fmtBytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${nf(x < 10 ? 1 : 0).format(x)} ${units[i]}`;
}

/** Formats a value in its unit; null and NaN read as an em dash. */
export function fmt(v: number | null | undefined, unit: Unit = 'none'): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'ms':
      return fmtMs(v);
    case 'percent':
    case 'ratio':
      return `${nf(Math.abs(v) < 0.01 && v !== 0 ? 2 : 1).format(v * 100)} %`;
    case 'bytes':
    case 'By':
      return fmtBytes(v);
    case 'rps':
      return `${fmtNumber(v)}/s`;
    case 's':
      return fmtMs(v * 1000);
    default:
      return fmtNumber(v);
  }
}

/** Maps an OpenTelemetry unit string to a display unit. */
export function unitOf(otelUnit: string | null | undefined, metricName = ''): Unit {
  if (!otelUnit) return 'none';
  if (otelUnit === 'By') return 'bytes';
  if (otelUnit === 'ms') return 'ms';
  if (otelUnit === 's') return 's';
  if (otelUnit === '1' && /utilization|ratio/.test(metricName)) return 'percent';
  return 'none';
}

/** A timestamp as local date and time with milliseconds. */
export function fmtTime(iso: string | number | null | undefined, withDate = false): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

/** How long ago, roughly. */
export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Any value as display text (objects as JSON). */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
