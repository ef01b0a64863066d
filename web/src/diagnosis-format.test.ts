import { describe, expect, it } from 'vitest';
import type { DiagnosisResponse } from '../../src/api/contract.ts';
import {
  clockText,
  confidenceLevel,
  confidencePercent,
  detectorsSummary,
  detectorText,
  elapsedText,
  figureRows,
  figureText,
  isUiPath,
  lengthText,
  POLL_MS,
  pollInterval,
  stateBadge,
  windowRange,
  windowText,
} from './diagnosis-format.ts';

// Local-time moments, so the expectations hold in any time zone.
const at = (h: number, m: number, s = 0, day = 4) => new Date(2026, 11, day, h, m, s);
const iso = (h: number, m: number, s = 0, day = 4) => at(h, m, s, day).toISOString();
const NOW = at(10, 20).getTime();

describe('confidence', () => {
  it.each([
    [0.873, 87],
    [1, 100],
    [0, 0],
    [1.7, 100],
    [-0.2, 0],
    [Number.NaN, 0],
  ])('%s reads as %s %%', (c, pct) => expect(confidencePercent(c)).toBe(pct));

  it('levels: ≥ 70 % high, ≥ 40 % medium, else low', () => {
    expect([0.9, 0.7, 0.69, 0.4, 0.39, 0].map(confidenceLevel)).toEqual(['high', 'high', 'medium', 'medium', 'low', 'low']);
  });
});

describe('figures take the unit their key names', () => {
  it.each([
    ['baseline_p95_ms', 120, '120 ms'],
    ['window_p95_ms', 2300, '2.3 s'],
    ['lag_s', 90, '1.5 min'],
    ['wait_seconds', 2.5, '2.5 s'],
    ['disk_free_bytes', 5 * 1024 ** 3, '5 GiB'],
    ['error_pct', 34.2, '34.2 %'],
    ['cpu_utilization', 0.97, '97 %'],
    ['share', 0.4, '40 %'],
    ['regression_share', 0.815, '81.5 %'],
    ['ratio', 19.2, '19.2×'],
    ['growth_factor', 3, '3×'],
    ['calls_per_s', 12.5, '12.5/s'],
    ['window_rps', 1200, '1,200/s'],
    // A `_ratio` key may be a share or a multiplier: the number as it came.
    ['error_ratio', 0.34, '0.34'],
    ['calls', 123456, '123,456'],
    ['mean', 3.14159, '3.14'],
  ])('%s = %s → %s', (key, value, text) => expect(figureText(key, value)).toBe(text));

  it('strings pass through untouched, null is a dash', () => {
    expect(figureText('version', '2.5.0 → 2.6.0')).toBe('2.5.0 → 2.6.0');
    expect(figureText('statement_ms', '<b>not html</b>')).toBe('<b>not html</b>');
    expect(figureText('baseline_p95_ms', null)).toBe('—');
    expect(figureText('x', Number.POSITIVE_INFINITY)).toBe('Infinity');
  });

  it('a moment reads as local time; other strings that look like dates stay as they came', () => {
    expect(figureText('at', iso(10, 1, 30), NOW)).toBe('10:01:30');
    expect(figureText('at', iso(22, 0, 0, 3), NOW)).toBe('12-03 22:00:00');
    expect(figureText('at', '2026-12-04', NOW)).toBe('2026-12-04');
    expect(figureText('at', '2026-12-04T10:01:30Z and later', NOW)).toBe('2026-12-04T10:01:30Z and later');
  });

  it('rows keep the detector order and the raw value for a tooltip', () => {
    expect(figureRows({ window_p95_ms: 2300, ratio: 19.2, host: 'node-a', before: null })).toEqual([
      ['window_p95_ms', '2.3 s', '2300'],
      ['ratio', '19.2×', '19.2'],
      ['host', 'node-a', 'node-a'],
      ['before', '—', 'null'],
    ]);
    expect(figureRows(undefined)).toEqual([]);
  });
});

describe('windows and times', () => {
  it('lengths', () => {
    expect([0, 45_000, 750_000, 720_000, 3_600_000 + 300_000, 50 * 3_600_000].map(lengthText)).toEqual(['0s', '45s', '12m 30s', '12m', '1h 5m', '2d 2h']);
  });

  it('a moment today is a clock time; another day carries its date', () => {
    expect(clockText(iso(10, 2, 5), NOW)).toBe('10:02:05');
    expect(clockText(iso(23, 59, 0, 3), NOW)).toBe('12-03 23:59:00');
    expect(clockText('not a time', NOW)).toBe('not a time');
  });

  it('a window reads as from → to with its length; across midnight the end keeps its date', () => {
    expect(windowText({ from: iso(10, 2), to: iso(10, 14, 30) }, NOW)).toBe('10:02:00 → 10:14:30 (12m 30s)');
    expect(windowText({ from: iso(23, 50, 0, 3), to: iso(0, 20) }, NOW)).toBe('12-03 23:50:00 → 00:20:00 (30m)');
    expect(windowText({ from: iso(9, 0, 0, 1), to: iso(9, 30, 0, 1) }, NOW)).toBe('12-01 09:00:00 → 09:30:00 (30m)');
  });

  it('a window as a time range for links', () => {
    expect(windowRange({ from: '2026-12-04T10:00:00.000Z', to: '2026-12-04T10:10:00.000Z' })).toBe(`from=${Date.UTC(2026, 11, 4, 10)}&to=${Date.UTC(2026, 11, 4, 10, 10)}`);
  });
});

type Runs = DiagnosisResponse['detectors'];

describe('detectors', () => {
  const runs: Runs = [
    { name: 'operations', state: 'ok', ms: 120, evidence: 3 },
    { name: 'changes', state: 'ok', ms: 4, evidence: 1 },
    { name: 'resources', state: 'ok', ms: 80, evidence: 0 },
    { name: 'log-patterns', state: 'timeout', ms: 20_000, evidence: 0, error: 'did not finish within 20000 ms' },
    { name: 'db-pool', state: 'failed', ms: 7, evidence: 0, error: 'boom' },
  ];

  it('each run as a short line', () => {
    expect(runs.map(detectorText)).toEqual(['operations 120 ms · 3 findings', 'changes 4 ms · 1 finding', 'resources 80 ms · nothing', 'log-patterns timed out after 20 s', 'db-pool failed after 7 ms']);
  });

  it('a summary counts findings, failures and time-outs', () => {
    expect(detectorsSummary(runs)).toBe('5 detectors, 2 with findings, 1 failed, 1 timed out');
    expect(detectorsSummary(runs.slice(0, 1))).toBe('1 detector, 1 with findings');
    expect(detectorsSummary([])).toBe('no detectors ran');
  });
});

describe('state and polling', () => {
  const hyp = { rank: 1 } as DiagnosisResponse['hypotheses'][number];

  it('the state badge', () => {
    expect(stateBadge(null)).toEqual({ text: 'not run', cls: '' });
    expect(stateBadge({ state: 'running', hypotheses: [] })).toEqual({ text: 'running', cls: 'warn' });
    expect(stateBadge({ state: 'failed', hypotheses: [] })).toEqual({ text: 'failed', cls: 'bad' });
    expect(stateBadge({ state: 'ready', hypotheses: [] })).toEqual({ text: 'ready · no likely cause', cls: 'ok' });
    expect(stateBadge({ state: 'ready', hypotheses: [hyp] }).text).toBe('ready · 1 hypothesis');
    expect(stateBadge({ state: 'ready', hypotheses: [hyp, { ...hyp, rank: 2 }] }).text).toBe('ready · 2 hypotheses');
  });

  it('elapsed: how long it took, or has been running', () => {
    expect(elapsedText({ state: 'ready', startedAt: iso(10, 0), finishedAt: new Date(at(10, 0).getTime() + 4200).toISOString() }, NOW)).toBe('took 4.2 s');
    expect(elapsedText({ state: 'running', startedAt: new Date(NOW - 3000).toISOString(), finishedAt: null }, NOW)).toBe('running for 3s');
    expect(elapsedText({ state: 'failed', startedAt: 'garbage', finishedAt: null }, NOW)).toBe('');
  });

  it('polls a running report every 2 s; a missing one only for a fresh incident; otherwise never', () => {
    const fresh = new Date(NOW - 20_000).toISOString();
    const old = new Date(NOW - 3_600_000).toISOString();
    expect(pollInterval({ state: 'running' }, false, old, NOW)).toBe(POLL_MS);
    expect(POLL_MS).toBe(2000);
    expect(pollInterval({ state: 'ready' }, false, fresh, NOW)).toBeNull();
    expect(pollInterval({ state: 'failed' }, false, fresh, NOW)).toBeNull();
    expect(pollInterval(null, true, fresh, NOW)).toBe(4000);
    expect(pollInterval(null, true, old, NOW)).toBeNull();
    expect(pollInterval(null, false, fresh, NOW)).toBeNull();
  });
});

describe('links', () => {
  it('only paths of the UI', () => {
    expect(['/logs?q=a&from=1&to=2', '/traces/abc', '//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)'].map(isUiPath)).toEqual([true, true, false, false, false, false]);
  });
});
