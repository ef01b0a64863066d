/**
 * Sending test telemetry through Vigil's real OTLP/HTTP receiver: protobuf messages built from plain
 * objects, and the common case of a burst of failed server spans of one service.
 */
import { otlpTypes } from '../../src/ingest/otlp/proto.ts';

let nextId = 1;
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** Posts one OTLP protobuf request (`fromObject` shape) and throws unless it is acknowledged with 200. */
export async function postOtlp(otlpUrl: string, token: string, type: 'traces' | 'metrics' | 'logs', message: Record<string, unknown>): Promise<void> {
  const Msg = otlpTypes()[type].request;
  const res = await fetch(`${otlpUrl}/v1/${type}`, {
    method: 'POST',
    body: Msg.encode(Msg.fromObject(message)).finish(),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
  });
  if (res.status !== 200) throw new Error(`OTLP ${type} answered ${res.status}: ${await res.text()}`);
}

/** Sends `n` failed server spans (`POST /pay`, status error) of `service`, stamped just now; resolves at the ack with its time. */
export async function sendErrorSpans(otlpUrl: string, token: string, service: string, n: number): Promise<number> {
  const now = Date.now();
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: hex(nextId, 16),
    spanId: hex(nextId++, 8),
    name: 'POST /pay',
    kind: 2,
    startTimeUnixNano: String(BigInt(now - 1000 + i) * 1_000_000n),
    endTimeUnixNano: String(BigInt(now - 990 + i) * 1_000_000n),
    status: { code: 2, message: 'boom' },
  }));
  const res = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }),
  });
  if (res.status !== 200) throw new Error(`OTLP answered ${res.status}: ${await res.text()}`);
  return Date.now();
}
