import { describe, expect, it } from 'vitest';
import { decodeOtlp, OtlpDecodeError } from './decode.ts';
import { otlpTypes } from './proto.ts';

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('decodeOtlp', () => {
  it('reads JSON spans with string enums, hex ids and string int64 times', () => {
    const r = decodeOtlp(
      'traces',
      json({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'lms-api' } }] },
            scopeSpans: [
              {
                scope: { name: 'lib', version: '2' },
                spans: [
                  {
                    traceId: 'AABBCCDDEEFF00112233445566778899',
                    spanId: '0011223344556677',
                    name: 'POST /register',
                    kind: 'SPAN_KIND_SERVER',
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000000250000000',
                    status: { code: 'STATUS_CODE_ERROR', message: 'forbidden' },
                    attributes: [
                      { key: 'http.response.status_code', value: { intValue: '403' } },
                      { key: 'list', value: { arrayValue: { values: [{ boolValue: true }, { doubleValue: 1.5 }] } } },
                      { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
                    ],
                    events: [{ timeUnixNano: '1700000000100000000', name: 'exception', attributes: [] }],
                  },
                ],
              },
            ],
          },
        ],
      }),
      'json',
    );
    expect(r.rejected).toBe(0);
    const span = r.batch.spans[0]!;
    expect(span).toMatchObject({
      traceId: 'aabbccddeeff00112233445566778899',
      spanId: '0011223344556677',
      parentSpanId: '',
      kind: 'Server',
      statusCode: 'Error',
      statusMessage: 'forbidden',
      durationNs: 250_000_000n,
      scope: { name: 'lib', version: '2' },
    });
    expect(span.attributes).toEqual({ 'http.response.status_code': 403, list: [true, 1.5], map: { k: 'v' } });
    expect(span.events[0]!.timeNs).toBe(1700000000100000000n);
    expect(span.resource.serviceName).toBe('lms-api');
  });

  it('keeps exact nanosecond timestamps from protobuf fixed64', () => {
    const T = otlpTypes().logs.request;
    const body = T.encode(T.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000123456789', body: { stringValue: 'x' } }] }] }] })).finish();
    const r = decodeOtlp('logs', body, 'protobuf');
    expect(r.batch.logs[0]!.timeNs).toBe(1700000000123456789n);
    expect(r.batch.logs[0]!.resource.serviceName).toBe('unknown_service');
  });

  it('rejects spans with bad ids and metrics without values, item by item', () => {
    const r = decodeOtlp(
      'metrics',
      json({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  { name: 'ok', gauge: { dataPoints: [{ asDouble: 1 }, {}] } },
                  { name: 'h', histogram: { dataPoints: [{ count: '2', bucketCounts: ['1', '1', '0'], explicitBounds: [1] }] } },
                  { name: 'nodata' },
                ],
              },
            ],
          },
        ],
      }),
      'json',
    );
    expect(r.batch.metrics.map((m) => m.name)).toEqual(['ok']);
    expect(r.rejected).toBe(3);
    expect(r.errors.join(';')).toMatch(/has no value.*3 bucket counts for 1 bounds.*has no data/);
  });

  it('converts exponential histograms to explicit buckets with the same total count', () => {
    const r = decodeOtlp(
      'metrics',
      json({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'e', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ count: '6', scale: 0, zeroCount: '1', positive: { offset: 1, bucketCounts: ['2', '3'] } }] } }] }] }],
      }),
      'json',
    );
    const m = r.batch.metrics[0]!;
    expect(m.kind).toBe('histogram');
    expect(m.temporality).toBe('delta');
    expect(m.explicitBounds).toEqual([2, 4, 8]);
    expect(m.bucketCounts).toEqual([1, 2, 3, 0]);
  });

  it('throws OtlpDecodeError for undecodable bodies', () => {
    expect(() => decodeOtlp('logs', new TextEncoder().encode('[1,2]'), 'json')).toThrow(OtlpDecodeError);
    expect(() => decodeOtlp('logs', new Uint8Array([0x0a, 0x05, 0x01]), 'protobuf')).toThrow(OtlpDecodeError);
  });
});
