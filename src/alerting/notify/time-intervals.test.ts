import { describe, expect, it } from 'vitest';
import { parseNotificationConfig, type TimeInterval } from './config.ts';
import { containsTime, isActive, timeMute } from './time-intervals.ts';

/** One time interval specification from its YAML (through the real parser). */
function spec(yaml: string): TimeInterval {
  const r = parseNotificationConfig(`route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - ${yaml}\n`);
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  return r.config.timeIntervals.get('t')![0]!;
}

describe('containsTime (Alertmanager timeinterval semantics)', () => {
  it.each([
    // times: start inclusive, end exclusive, in UTC by default
    ["times: [{start_time: '09:00', end_time: '17:00'}]", '2026-01-15T08:59:00Z', false],
    ["times: [{start_time: '09:00', end_time: '17:00'}]", '2026-01-15T09:00:00Z', true],
    ["times: [{start_time: '09:00', end_time: '17:00'}]", '2026-01-15T16:59:59Z', true],
    ["times: [{start_time: '09:00', end_time: '17:00'}]", '2026-01-15T17:00:00Z', false],
    ["times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '06:00'}]", '2026-01-15T23:59:00Z', true],
    ["times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '06:00'}]", '2026-01-15T00:00:00Z', true],
    ["times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '06:00'}]", '2026-01-15T06:00:00Z', false],
    // a time zone, in winter and in summer (daylight saving time)
    ["{times: [{start_time: '09:00', end_time: '17:00'}], location: America/New_York}", '2026-01-15T13:59:00Z', false],
    ["{times: [{start_time: '09:00', end_time: '17:00'}], location: America/New_York}", '2026-01-15T14:00:00Z', true],
    ["{times: [{start_time: '09:00', end_time: '17:00'}], location: America/New_York}", '2026-07-15T12:59:00Z', false],
    ["{times: [{start_time: '09:00', end_time: '17:00'}], location: America/New_York}", '2026-07-15T13:00:00Z', true],
    // weekdays are read in the zone: Sunday 20:00 UTC is Monday 05:00 in Tokyo
    ["weekdays: ['monday:friday']", '2026-12-06T20:00:00Z', false],
    ["{weekdays: ['monday:friday'], location: Asia/Tokyo}", '2026-12-06T20:00:00Z', true],
    ["weekdays: ['Saturday', 'sunday']", '2026-12-06T20:00:00Z', true],
    // days of month: negative days count from the end, ranges past the month's end are clamped or skipped
    ["days_of_month: ['-1']", '2026-02-28T12:00:00Z', true],
    ["days_of_month: ['-1']", '2028-02-28T12:00:00Z', false],
    ["days_of_month: ['-1']", '2028-02-29T12:00:00Z', true],
    ["days_of_month: ['31']", '2026-04-30T12:00:00Z', false],
    ["days_of_month: ['31']", '2026-05-31T12:00:00Z', true],
    ["days_of_month: ['29:31']", '2026-02-28T12:00:00Z', false],
    ["days_of_month: ['25:31']", '2026-02-28T12:00:00Z', true],
    ["days_of_month: ['1:-1']", '2026-04-30T12:00:00Z', true],
    ["days_of_month: ['-7:-1']", '2026-04-23T12:00:00Z', false],
    ["days_of_month: ['-7:-1']", '2026-04-24T12:00:00Z', true],
    // the month and day change with the zone: 23:30 UTC on 31 January is 1 February in Berlin
    ["{months: ['february'], location: Europe/Berlin}", '2026-01-31T23:30:00Z', true],
    ["months: ['february']", '2026-01-31T23:30:00Z', false],
    ["{days_of_month: ['1'], location: Europe/Berlin}", '2026-01-31T23:30:00Z', true],
    ["months: ['january:march', '12']", '2026-12-01T00:00:00Z', true],
    ["months: ['4:11']", '2026-12-01T00:00:00Z', false],
    ["years: ['2025:2026']", '2026-12-31T23:59:00Z', true],
    ["{years: ['2025:2026'], location: Asia/Tokyo}", '2026-12-31T23:59:00Z', false],
    // every field given must match
    ["{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}", '2026-12-07T10:00:00Z', true],
    ["{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}", '2026-12-06T10:00:00Z', false],
    ['{}', '2026-12-06T10:00:00Z', true],
  ])('%s at %s → %s', (yaml, at, want) => {
    expect(containsTime(spec(yaml), new Date(at))).toBe(want);
  });

  it('an interval is active when any of its specifications contains the time', () => {
    const weekend = spec("weekdays: ['saturday', 'sunday']");
    const nights = spec("times: [{start_time: '00:00', end_time: '06:00'}]");
    expect(isActive([weekend, nights], new Date('2026-12-07T03:00:00Z'))).toBe(true);
    expect(isActive([weekend, nights], new Date('2026-12-07T12:00:00Z'))).toBe(false);
    expect(isActive([], new Date('2026-12-07T12:00:00Z'))).toBe(false);
  });
});

describe('timeMute (route mute and active time intervals)', () => {
  const intervals = new Map<string, TimeInterval[]>([
    ['weekends', [spec("weekdays: ['saturday', 'sunday']")]],
    ['office', [spec("{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}")]],
  ]);
  const sunday = new Date('2026-12-06T10:00:00Z');
  const mondayMorning = new Date('2026-12-07T10:00:00Z');
  const mondayNight = new Date('2026-12-07T20:00:00Z');

  it.each([
    [[], [], sunday, { muted: false, muteInterval: null, outsideActive: false }],
    [['weekends'], [], sunday, { muted: true, muteInterval: 'weekends', outsideActive: false }],
    [['weekends'], [], mondayMorning, { muted: false, muteInterval: null, outsideActive: false }],
    [[], ['office'], mondayMorning, { muted: false, muteInterval: null, outsideActive: false }],
    [[], ['office'], mondayNight, { muted: true, muteInterval: null, outsideActive: true }],
    [['weekends'], ['office'], sunday, { muted: true, muteInterval: 'weekends', outsideActive: true }],
  ])('mute %j, active %j at %s', (mute, active, at, want) => {
    expect(timeMute({ muteTimeIntervals: mute, activeTimeIntervals: active }, intervals, at)).toEqual(want);
  });
});
