import { describe, expect, it } from 'vitest';
import type { LogRow, MetricRow, ResourceInfo, SpanRow, TelemetryBatch } from '../model/telemetry.ts';
import { ORIGINAL_TIME_ATTRIBUTE, validateBatch, type RecordLimits } from './validate.ts';

const NOW = 1_800_000_000_000_000_000n;
const DAY = 86_400_000_000_000n;
const HOUR = 3_600_000_000_000n;
const limits: RecordLimits = { maxAgeNs: { logs: 7n * DAY, traces: 7n * DAY, metrics: 30n * DAY }, maxClockSkewNs: HOUR };
const resource = (serviceName: string, serviceNamespace = ''): ResourceInfo => ({ serviceName, serviceNamespace, serviceVersion: '', hostName: '', attributes: { 'service.name': serviceName } });
const RMS = resource('rms-api');

const log = (timeNs: bigint, r = RMS): LogRow => ({
  timeNs, observedTimeNs: NOW, traceId: '', spanId: '', traceFlags: 0, severityText: '', severityNumber: 0, body: 'b', resource: r, scope: { name: '', version: '' }, attributes: {},
});
const span = (startTimeNs: bigint, durationNs: bigint, r = RMS): SpanRow => ({
  startTimeNs, durationNs, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: '', traceState: '', name: 's', kind: 'Server', statusCode: 'Unset', statusMessage: '',
  resource: r, scope: { name: '', version: '' }, attributes: {}, events: [{ timeNs: 2n ** 64n - 1n, name: 'e', attributes: {} }], links: [],
});
const metric = (timeNs: bigint, patch: Partial<MetricRow> = {}): MetricRow => ({
  kind: 'gauge', name: 'm', description: '', unit: '', startTimeNs: 0n, timeNs, resource: RMS, scope: { name: '', version: '' }, attributes: {}, flags: 0, value: 1,
  temporality: 'unspecified', isMonotonic: false, count: 0, sum: null, min: null, max: null, bucketCounts: [], explicitBounds: [], ...patch,
});
const batch = (b: Partial<TelemetryBatch>): TelemetryBatch => ({ logs: [], spans: [], metrics: [], ...b });

describe('validateBatch', () => {
  it.each([
    ['now', NOW, true],
    ['a minute ago', NOW - 60_000_000_000n, true],
    ['at the skew limit', NOW + HOUR, true],
    ['beyond the skew', NOW + HOUR + 1n, false],
    ['year 2200', 7_258_118_400_000_000_000n, false],
    ['beyond int64', 2n ** 64n - 1n, false],
    ['older than retention', NOW - 8n * DAY, false],
    ['zero', 0n, false],
  ])('a span starting %s is %s accepted', (_name, start, ok) => {
    const b = batch({ spans: [span(start, 0n)] });
    const v = validateBatch(b, NOW, limits);
    expect(b.spans.length === 1).toBe(ok);
    expect(v.rejected).toBe(ok ? 0 : 1);
    if (!ok) expect(v.reasons[0]).toMatch(/accepted window/);
  });

  it('rejects a span whose end lies beyond the window, and moves absurd event times to the span start', () => {
    const b = batch({ spans: [span(NOW, 2n ** 63n), span(NOW, 5n)] });
    const v = validateBatch(b, NOW, limits);
    expect(v.rejected).toBe(1);
    expect(v.reasons[0]).toMatch(/span end/);
    expect(b.spans[0]!.events[0]!.timeNs).toBe(NOW);
  });

  it('keeps a log record with an impossible time at its receive time, and the original time as an attribute', () => {
    const b = batch({ logs: [log(2n ** 64n - 1n), log(NOW - 1n)] });
    const v = validateBatch(b, NOW, limits);
    expect(v).toMatchObject({ rejected: 0, clamped: 1 });
    expect(v.warning).toMatch(/1 log record\(s\).*receive time/);
    expect(b.logs[0]!.timeNs).toBe(NOW);
    expect(b.logs[0]!.attributes[ORIGINAL_TIME_ATTRIBUTE]).toBe('18446744073709551615');
    expect(b.logs[1]!.timeNs).toBe(NOW - 1n);
  });

  it('rejects metric points without a time, out of the window, or with counts a column cannot hold', () => {
    const b = batch({
      metrics: [
        metric(0n),
        metric(NOW + 2n * HOUR),
        metric(NOW, { kind: 'histogram', count: Number.NaN, bucketCounts: [1] }),
        metric(NOW, { kind: 'histogram', count: 1e30, bucketCounts: [1] }),
        metric(NOW, { kind: 'histogram', count: 2, bucketCounts: [1, -1] }),
        metric(NOW, { startTimeNs: NOW + 5n }),
      ],
    });
    const v = validateBatch(b, NOW, limits);
    expect(v.rejected).toBe(5);
    expect(b.metrics).toHaveLength(1);
    expect(b.metrics[0]!.startTimeNs).toBe(0n);
  });

  it("refuses records under Vigil's own names: its monitors' service, namespace and check metrics", () => {
    const b = batch({
      logs: [log(NOW, resource('vigil-monitors'))],
      spans: [span(NOW, 1n, resource('x', 'vigil'))],
      metrics: [metric(NOW, { name: 'vigil.check.up' }), metric(NOW, { name: 'vigil_agent_ok' })],
    });
    const v = validateBatch(b, NOW, limits);
    expect(v.rejected).toBe(3);
    expect(v.reasons.join(' ')).toMatch(/reserved for Vigil/);
    expect(b.metrics.map((m) => m.name)).toEqual(['vigil_agent_ok']);
  });
});
