import { describe, expect, it } from 'vitest';
import type { AlertHistoryEntry } from '../../src/api/contract.ts';
import {
  amMatchersText,
  backtestSummary,
  fileErrorText,
  fmtAlertValue,
  humanizeDuration,
  labelKey,
  labelPairs,
  matchersForLabels,
  matchersText,
  matchesLabels,
  MatcherError,
  parsePromDuration,
  parseSilenceMatchers,
  promDuration,
  silenceSelects,
  since,
  toAmMatchers,
  valueUnit,
} from './alert-format.ts';
import { backtestPeriods, firingBands, firingPeriods } from './components/AlertMarkers.ts';

describe('durations', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [12 * 60_000 + 5_000, '12m 5s'],
    [12 * 60_000, '12m'],
    [3_900_000, '1h 5m'],
    [3_600_000 + 30_000, '1h'],
    [2 * 86_400_000 + 3 * 3_600_000 + 60_000, '2d 3h'],
  ])('humanizes %d ms as %s', (ms, text) => expect(humanizeDuration(ms)).toBe(text));

  it('says how long since a time, never negative', () => {
    expect(since('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:12:00Z'))).toBe('12m');
    expect(since('2026-01-01T00:12:00Z', Date.parse('2026-01-01T00:00:00Z'))).toBe('0s');
    expect(since(null, 0)).toBe('—');
  });

  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['0s', 0],
    ['0', 0],
    ['1w', 604_800_000],
    ['500ms', 500],
  ])('reads the Prometheus duration %s', (text, ms) => expect(parsePromDuration(text)).toBe(ms));

  it.each(['', '5', '1.5h', '30m1h', '5m5m', 'ten minutes', '-5m'])('refuses %j', (text) => expect(parsePromDuration(text)).toBeNull());

  it('writes Prometheus durations that read back the same', () => {
    for (const ms of [0, 1000, 60_000, 5_400_000, 90_061_000]) expect(parsePromDuration(promDuration(ms))).toBe(ms);
    expect(promDuration(5_400_000)).toBe('1h30m');
  });
});

describe('values', () => {
  it('guesses the unit of a rule value from what it reads', () => {
    expect(valueUnit('query', 'from spans kind=server | stats p95(duration_ms) as value by service.name | where value > 5000')).toBe('ms');
    expect(valueUnit('query', 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by http.route')).toBe('percent');
    expect(valueUnit('query', 'from spans | stats count() by service.name')).toBe('none');
    expect(valueUnit('query', 'from spans | stats count() as n avg(duration_ms) by http.route')).toBe('ms');
    expect(valueUnit('metric', 'system.cpu.utilization avg')).toBe('percent');
    expect(valueUnit('metric', 'process.memory.usage avg')).toBe('bytes');
    expect(valueUnit('monitor', 'monitor rms-login down')).toBe('none');
  });

  it('formats the value text Prometheus sends in its unit', () => {
    expect(fmtAlertValue('0.0734', 'percent')).toBe('7.3 %');
    expect(fmtAlertValue('5400', 'ms')).toBe('5.4 s');
    expect(fmtAlertValue('', 'ms')).toBe('—');
    expect(fmtAlertValue('NaN', 'none')).toBe('NaN');
    expect(fmtAlertValue('+Inf', 'none')).toBe('+Inf');
  });
});

describe('labels', () => {
  it('puts alertname first and keys label sets regardless of order', () => {
    expect(labelPairs({ z: '1', alertname: 'A', b: '2' })).toEqual([
      ['alertname', 'A'],
      ['b', '2'],
      ['z', '1'],
    ]);
    expect(labelPairs({ alertname: 'A', b: '2' }, ['alertname'])).toEqual([['b', '2']]);
    expect(labelKey({ a: '1', b: '2' })).toBe(labelKey({ b: '2', a: '1' }));
    expect(labelKey({ a: '1' })).not.toBe(labelKey({ a: '2' }));
  });

  it('names file and line of file errors', () => {
    expect(fileErrorText({ file: 'rms.yml', line: 12, field: 'for', message: 'not a duration' })).toBe('rms.yml:12: for: not a duration');
    expect(fileErrorText({ file: 'rms.yml', line: null, field: null, message: 'unreadable' })).toBe('rms.yml: unreadable');
  });
});

describe('silence matchers', () => {
  const alert = { alertname: 'RmsHighErrorRate', service_name: 'rms-api', severity: 'critical' };

  it('reads matchers separated by spaces or commas, quoted or not, with braces', () => {
    const ms = parseSilenceMatchers('alertname="RmsHighErrorRate" service_name=~"rms.*"');
    expect(ms.map((m) => [m.name, m.type, m.value])).toEqual([
      ['alertname', '=', 'RmsHighErrorRate'],
      ['service_name', '=~', 'rms.*'],
    ]);
    expect(matchersText(parseSilenceMatchers('{severity="critical", service_name!=lms-api}'))).toBe('severity="critical" service_name!="lms-api"');
    expect(matchersText(parseSilenceMatchers('summary="a, b and c" x = "y"'))).toBe('summary="a, b and c" x="y"');
  });

  it('takes a first bare word as the alert name, as amtool does', () => {
    expect(matchersText(parseSilenceMatchers('RmsHighErrorRate severity=critical'))).toBe('alertname="RmsHighErrorRate" severity="critical"');
  });

  it('refuses what Alertmanager refuses, saying which', () => {
    expect(() => parseSilenceMatchers('')).toThrow(MatcherError);
    expect(() => parseSilenceMatchers('a="b" c')).toThrow(/bad matcher format: c/);
    expect(() => parseSilenceMatchers('a=~"(unclosed"')).toThrow(/invalid regex/);
    expect(() => parseSilenceMatchers('a="open')).toThrow(/quote/);
  });

  it('matches label sets as Alertmanager does: anchored regexes, a missing label is empty', () => {
    const m = (t: string) => matchesLabels(parseSilenceMatchers(t), alert);
    expect(m('alertname="RmsHighErrorRate" service_name=~"rms.*"')).toBe(true);
    expect(m('service_name=~"rms"')).toBe(false);
    expect(m('service_name!~"lms.*"')).toBe(true);
    expect(m('team=""')).toBe(true);
    expect(m('team!=""')).toBe(false);
    expect(m('severity=~"warning|critical"')).toBe(true);
  });

  it('round-trips through the API v2 shape', () => {
    const am = toAmMatchers(parseSilenceMatchers('a="1" b!="2" c=~"3.*" d!~"4"'));
    expect(am).toEqual([
      { name: 'a', value: '1', isRegex: false, isEqual: true },
      { name: 'b', value: '2', isRegex: false, isEqual: false },
      { name: 'c', value: '3.*', isRegex: true, isEqual: true },
      { name: 'd', value: '4', isRegex: true, isEqual: false },
    ]);
    expect(amMatchersText(am)).toEqual(['a="1"', 'b!="2"', 'c=~"3.*"', 'd!~"4"']);
    expect(silenceSelects({ matchers: am }, { a: '1', b: 'x', c: '3x', d: 'y' })).toBe(true);
    expect(silenceSelects({ matchers: [{ name: 'a', value: '(', isRegex: true }] }, { a: '(' })).toBe(false);
  });

  it('prefills a silence with every label of an alert, which then matches it', () => {
    const text = matchersForLabels({ severity: 'critical', alertname: 'X', route: '/api/"quoted"' });
    expect(text).toBe('alertname="X" route="/api/\\"quoted\\"" severity="critical"');
    expect(matchesLabels(parseSilenceMatchers(text), { severity: 'critical', alertname: 'X', route: '/api/"quoted"' })).toBe(true);
  });
});

describe('backtest summary', () => {
  it('says how often, how long and how many notifications', () => {
    const firing = { labels: {}, start: '', end: null, peak: null };
    expect(backtestSummary({ firings: [firing, firing, firing], firingSeconds: 42 * 60, notifications: 6, evaluations: 100 })).toBe('would have fired 3 times, for 42m in total, sending 6 notifications');
    expect(backtestSummary({ firings: [firing], firingSeconds: 90, notifications: 1, evaluations: 100 })).toBe('would have fired once, for 1m 30s in total, sending 1 notification');
    expect(backtestSummary({ firings: [], firingSeconds: 0, notifications: 0, evaluations: 5760 })).toBe('would not have fired (5,760 evaluations replayed)');
  });
});

describe('alert markers', () => {
  const t = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
  const ms = (min: number) => Date.UTC(2026, 0, 1, 0, min);
  const entry = (fp: string, from: AlertHistoryEntry['from'], to: AlertHistoryEntry['to'], min: number): AlertHistoryEntry => ({
    ruleId: 'r',
    alertname: `A${fp}`,
    fingerprint: fp,
    labels: { alertname: `A${fp}` },
    from,
    to,
    at: t(min),
    value: 1,
  });

  it('turns state changes into firing periods, open ones still firing, earlier ones clipped to the range', () => {
    const periods = firingPeriods(
      [
        entry('1', 'inactive', 'pending', 1),
        entry('1', 'pending', 'firing', 2),
        entry('1', 'firing', 'resolved', 10),
        entry('1', 'resolved', 'inactive', 11),
        entry('2', 'firing', 'resolved', 5),
        entry('3', 'pending', 'firing', 20),
        entry('1', 'resolved', 'firing', 30),
      ],
      ms(0),
    );
    expect(periods.map((p) => [p.fingerprint, p.start, p.end])).toEqual([
      ['2', ms(0), ms(5)],
      ['1', ms(2), ms(10)],
      ['3', ms(20), null],
      ['1', ms(30), null],
    ]);
  });

  it('ignores alerts that were pending and never fired', () => {
    expect(firingPeriods([entry('1', 'inactive', 'pending', 1), entry('1', 'pending', 'inactive', 2)], ms(0))).toEqual([]);
  });

  it('merges overlapping periods into one band that names how many alerts', () => {
    const bands = firingBands(
      firingPeriods([entry('1', 'pending', 'firing', 2), entry('2', 'pending', 'firing', 4), entry('1', 'firing', 'resolved', 6), entry('2', 'firing', 'resolved', 8), entry('1', 'pending', 'firing', 20), entry('1', 'firing', 'resolved', 25)], ms(0)),
    );
    expect(bands.map((b) => [b.from, b.to, b.label])).toEqual([
      [ms(2), ms(8), '2 alerts'],
      [ms(20), ms(25), 'A1'],
    ]);
    expect(firingBands(backtestPeriods([{ labels: { alertname: 'X' }, start: t(1), end: null, peak: 3 }]))).toMatchObject([{ from: ms(1), to: null, label: 'X' }]);
  });
});
