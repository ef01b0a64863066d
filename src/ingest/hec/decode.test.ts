import { describe, expect, it } from 'vitest';
import { decodeHecEvents, severityFromText, splitConcatenatedJson } from './decode.ts';

describe('splitConcatenatedJson', () => {
  it.each([
    ['{"a":1}{"b":2}', ['{"a":1}', '{"b":2}']],
    ['{"a":"}{"}\n {"b":"\\"}"}', ['{"a":"}{"}', '{"b":"\\"}"}']],
    ['{"a":{"b":[1,{"c":2}]}}', ['{"a":{"b":[1,{"c":2}]}}']],
    ['  ', []],
    ['{"a":1} x', ['{"a":1}', undefined]],
    ['{"a":1', [undefined]],
  ])('%s', (input, expected) => expect(splitConcatenatedJson(input)).toEqual(expected));
});

describe('decodeHecEvents', () => {
  it('keeps the events before the first invalid one and names its number', () => {
    const r = decodeHecEvents('{"event":"a"}{"event":"b"}[1]{"event":"c"}', {});
    expect(r.rows.map((x) => x.body)).toEqual(['a', 'b']);
    expect(r.error).toEqual({ code: 6, text: 'Invalid data format', eventNumber: 2 });
  });
  it('uses defaults for metadata and the service name from fields or source', () => {
    const r = decodeHecEvents('{"event":"x","fields":{"service":"rms-api"}}{"event":"y","source":"batch-job"}', { host: 'h' });
    expect(r.rows.map((x) => [x.resource.serviceName, x.resource.hostName])).toEqual([
      ['rms-api', 'h'],
      ['batch-job', 'h'],
    ]);
  });
});

describe('severityFromText', () => {
  it.each([
    ['info', 9],
    ['WARNING', 13],
    ['Error', 17],
    ['critical', 21],
    ['weird', 0],
  ])('%s → %d', (t, n) => expect(severityFromText(t)).toBe(n));
});
