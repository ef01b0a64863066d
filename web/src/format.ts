/** Formatting of numbers, durations, sizes and times for display. */

/**
 * Units a value can carry. `percent`/`ratio` are shares (0-1, shown as %), `cores` is CPU time per
 * second (1 = one core busy), `score` a 0-1 index such as Apdex; any unit followed by `/s` is a rate of it.
 */
export type Unit = 'ms' | 'percent' | 'ratio' | 'bytes' | 'rps' | 'count' | 'cores' | 'score' | 'none' | string;

/** Units whose values are shares of a whole: their axis never runs past 100 %. */
export function isShare(unit: Unit): boolean {
  return unit === 'percent' || unit === 'ratio' || unit === 'score';
}

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
    case 'cores':
      return `${fmtNumber(v)} ${Math.abs(v) === 1 ? 'core' : 'cores'}`;
    case 'score':
      return nf(2).format(v);
    default:
      // A rate of another unit: "2.5 MiB/s", "12/s".
      if (unit.endsWith('/s') && unit !== '/s') return `${fmt(v, unit.slice(0, -2))}/s`;
      if (unit === '/s') return `${fmtNumber(v)}/s`;
      return fmtNumber(v);
  }
}

/**
 * Maps an OpenTelemetry unit string to a display unit; `agg` rate makes it a rate per second.
 * `process.cpu.utilization` is CPU time over wall time, which passes 1 on several cores: it reads in
 * cores, not as a share.
 */
export function unitOf(otelUnit: string | null | undefined, metricName = '', agg?: string | null): Unit {
  const base = baseUnit(otelUnit, metricName);
  if (agg === 'rate') return base === 'none' ? '/s' : `${base}/s`;
  return base;
}

function baseUnit(otelUnit: string | null | undefined, metricName: string): Unit {
  if (metricName === 'process.cpu.utilization') return 'cores';
  if (!otelUnit) return 'none';
  if (otelUnit === 'By') return 'bytes';
  if (otelUnit === 'ms') return 'ms';
  if (otelUnit === 's') return 's';
  if (otelUnit === '1' && /utilization|ratio/.test(metricName)) return 'percent';
  return 'none';
}

/** A unit as words for a chart title: "requests/s", "% of requests", "ms". */
export function unitLabel(unit: Unit): string {
  switch (unit) {
    case 'percent':
    case 'ratio':
      return '%';
    case 'bytes':
      return 'bytes';
    case 'rps':
      return 'per second';
    case 'cores':
      return 'cores, 1 = one core busy';
    case 'score':
      return '0-1';
    case 'none':
      return '';
    default:
      return unit === '/s' ? 'per second' : unit.endsWith('/s') ? `${unitLabel(unit.slice(0, -2))} per second` : unit;
  }
}

/** A bucket width in seconds as "10 s", "1 min", "1 h". */
export function fmtBucket(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${nf(1).format(seconds / 60)} min`;
  if (seconds < 86400) return `${nf(1).format(seconds / 3600)} h`;
  return `${nf(1).format(seconds / 86400)} d`;
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
