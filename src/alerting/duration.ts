/**
 * Prometheus durations (`30s`, `5m`, `1h30m`, `2d`, `1w`, `1y`, `500ms`, `0s`), as rule files,
 * Alertmanager configurations and amtool write them. Units appear largest first, each at most once,
 * exactly as Prometheus's `model.ParseDuration` accepts them, so a rule file moves between Vigil and
 * Prometheus unchanged.
 */

const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS: readonly [string, number][] = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/**
 * Parses a Prometheus duration into milliseconds; throws an Error saying what is expected
 * (`expected a duration such as 30s, 5m, 1h30m or 2d but found "5 minutes"`).
 */
export function parsePromDuration(text: string): number {
  if (text === '0') return 0;
  const m = text === '' ? null : PROM_DURATION.exec(text);
  if (!m) throw new Error(`expected a duration such as 30s, 5m, 1h30m or 2d (units y w d h m s ms, largest first) but found ${JSON.stringify(text)}`);
  let ms = 0;
  for (let i = 0; i < UNITS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNITS[i]![1];
  if (!Number.isSafeInteger(ms)) throw new Error(`expected a duration of at most ${formatPromDuration(Number.MAX_SAFE_INTEGER - (Number.MAX_SAFE_INTEGER % 1000))} but found ${JSON.stringify(text)}`);
  return ms;
}

/** Formats milliseconds as Prometheus does (`1h30m`, `2d`, `1w1d`, `500ms`, `0s`); fractions of a millisecond are dropped. */
export function formatPromDuration(ms: number): string {
  let rest = Math.max(0, Math.trunc(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
