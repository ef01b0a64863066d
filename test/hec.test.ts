/**
 * The Splunk HEC receiver, driven by Splunk's own `splunk-logging` client and by raw requests that
 * check Splunk's reply bodies and codes.
 */
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

const require = createRequire(import.meta.url);

interface SplunkLoggerInstance {
  send(payload: { message: unknown; severity?: string; metadata?: Record<string, string> }, cb: (err: Error | null, resp: { statusCode: number }, body: unknown) => void): void;
  flush(cb: (err: Error | null, resp: { statusCode: number }, body: unknown) => void): void;
  error: (err: Error) => void;
}
const { Logger: SplunkLogger } = require('splunk-logging') as { Logger: new (config: Record<string, unknown>) => SplunkLoggerInstance };

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil();
});
afterAll(async () => {
  await v?.stop();
});

function hec(path: string, body: string, token: string | null = v.ingestToken, scheme = 'Splunk'): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `${scheme} ${token}`;
  return fetch(`${v.server.urls.hec}${path}`, { method: 'POST', body, headers });
}

describe('splunk-logging client', () => {
  it('sends events that land as log records with severity, host, source, sourcetype and index', async () => {
    const logger = new SplunkLogger({ token: v.ingestToken, url: v.server.urls.hec, maxBatchCount: 1 });
    logger.error = (err) => {
      throw err;
    };
    const send = (message: unknown, severity: string) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) =>
        logger.send({ message, severity, metadata: { host: 'pay-gw-1', source: 'payment-gateway', sourcetype: 'audit', index: 'payments' } }, (err, resp, body) =>
          err ? reject(err) : resolve({ status: resp.statusCode, body }),
        ),
      );
    const a = await send('payment batch 42 submitted', 'info');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ text: 'Success', code: 0 });
    // An object message (what splunk-logging sends for structured audit records) is a structured body
    // whose fields are searchable as message.<field>, with the level as severity — not the envelope as text.
    const b = await send({ action: 'payout.declined', payout: { id: 'po-7', amount: 12.5 } }, 'error');
    expect(b.status).toBe(200);

    const rows = await v.server.store.query(
      `SELECT Body, SeverityText, SeverityNumber, ServiceName, HostName, LogAttributes FROM otel_logs WHERE HostName = 'pay-gw-1' ORDER BY SeverityNumber`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ Body: 'payment batch 42 submitted', SeverityText: 'info', SeverityNumber: 9, ServiceName: 'payment-gateway', HostName: 'pay-gw-1' });
    const attrs = JSON.parse(String(rows[0]!.LogAttributes));
    expect(attrs).toMatchObject({ 'splunk.source': 'payment-gateway', 'splunk.sourcetype': 'audit', 'splunk.index': 'payments' });
    expect(rows[1]).toMatchObject({ SeverityText: 'error', SeverityNumber: 17 });
    expect(JSON.parse(String(rows[1]!.Body))).toEqual({ action: 'payout.declined', payout: { id: 'po-7', amount: 12.5 } });
    expect(JSON.parse(String(rows[1]!.LogAttributes))).toMatchObject({ 'message.action': 'payout.declined', 'message.payout.id': 'po-7', 'message.payout.amount': 12.5 });
    const found = await fetch(`${v.server.urls.api}/api/v1/search?since=15m&q=${encodeURIComponent('from logs message.payout.id=po-7 | stats count() by severity')}`, { headers: { authorization: `Bearer ${v.adminToken}` } });
    expect(found.status).toBe(200);
    expect(((await found.json()) as { rows: unknown[] }).rows).toEqual([{ severity: 'ERROR', count: 1 }]);
  });
});

describe('HEC endpoints', () => {
  it('accepts concatenated events with time, fields and severity in fields', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 600;
    const body =
      JSON.stringify({ event: 'concat-1 login ok', time: t0 + 0.25, host: 'lms-1', sourcetype: 'lms:auth', fields: { 'service.name': 'lms-api', severity: 'WARN', user: 'u1' } }) +
      '\n' +
      JSON.stringify({ event: { message: 'concat-2 registered', level: 'error', course: 'c-9' }, time: String(t0 + 1), index: 'lms' });
    const res = await hec('/services/collector/event', body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: 'Success', code: 0 });
    const rows = await v.server.store.query(`SELECT Body, ServiceName, SeverityNumber, epoch_ns(Timestamp) AS ns, LogAttributes FROM otel_logs WHERE Body LIKE 'concat-%' ORDER BY Body`);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ ServiceName: 'lms-api', SeverityNumber: 13, ns: BigInt(t0) * 1_000_000_000n + 250_000_000n });
    expect(JSON.parse(String(rows[0]!.LogAttributes))).toMatchObject({ user: 'u1', 'splunk.sourcetype': 'lms:auth' });
    expect(rows[1]).toMatchObject({ SeverityNumber: 17, ns: BigInt(t0 + 1) * 1_000_000_000n });
    expect(JSON.parse(String(rows[1]!.LogAttributes))).toMatchObject({ course: 'c-9', 'splunk.index': 'lms' });
  });

  it('splits raw bodies into one event per line, with metadata from the query string', async () => {
    const res = await hec('/services/collector/raw?sourcetype=nginx&source=lms-web&host=web-2', 'raw-line-1 GET /courses 200\n\nraw-line-2 ERROR upstream timed out\n');
    expect(res.status).toBe(200);
    const rows = await v.server.store.query(`SELECT Body, ServiceName, HostName, SeverityNumber FROM otel_logs WHERE Body LIKE 'raw-line-%' ORDER BY Body`);
    expect(rows).toEqual([
      { Body: 'raw-line-1 GET /courses 200', ServiceName: 'lms-web', HostName: 'web-2', SeverityNumber: 0 },
      { Body: 'raw-line-2 ERROR upstream timed out', ServiceName: 'lms-web', HostName: 'web-2', SeverityNumber: 17 },
    ]);
  });

  it('reports health', async () => {
    const res = await fetch(`${v.server.urls.hec}/services/collector/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: 'HEC is healthy', code: 17 });
  });

  it('a batch with one bad event: 400 code 6 with its number, the events before it kept', async () => {
    const body = `{"event":"batch-good-0"}{"event":"batch-good-1"}{"event": bad}{"event":"batch-after-bad"}`;
    const res = await hec('/services/collector/event', body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 2 });
    expect(await countRows(v.server, 'otel_logs', `Body LIKE 'batch-good-%'`)).toBe(2);
    expect(await countRows(v.server, 'otel_logs', `Body = 'batch-after-bad'`)).toBe(0);
  });

  it('an event without the event field: code 12; blank event: code 13; empty body: code 5', async () => {
    const missing = await hec('/services/collector/event', '{"host":"x"}');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ text: 'Event field is required', code: 12, 'invalid-event-number': 0 });
    const blank = await hec('/services/collector/event', '{"event":""}');
    expect(await blank.json()).toEqual({ text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 });
    const empty = await hec('/services/collector/event', '');
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ text: 'No data', code: 5 });
  });

  it('token required (401 code 2), invalid token (403 code 4), wrong scheme (401 code 3)', async () => {
    const missing = await hec('/services/collector/event', '{"event":"x"}', null);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ text: 'Token is required', code: 2 });
    const invalid = await hec('/services/collector/event', '{"event":"x"}', 'vgl_wrong');
    expect(invalid.status).toBe(403);
    expect(await invalid.json()).toEqual({ text: 'Invalid token', code: 4 });
    const scheme = await hec('/services/collector/event', '{"event":"x"}', v.ingestToken, 'Bearer');
    expect(scheme.status).toBe(401);
    expect(await scheme.json()).toEqual({ text: 'Invalid authorization', code: 3 });
  });

  it('a revoked token stops working at once', async () => {
    const secret = await v.server.tokens.create('hec-revoke-me', 'ingest');
    expect((await hec('/services/collector/event', '{"event":"before revoke"}', secret)).status).toBe(200);
    await v.server.tokens.revoke('hec-revoke-me');
    const res = await hec('/services/collector/event', '{"event":"after revoke"}', secret);
    expect(res.status).toBe(403);
  });
});

describe('HEC under more load than it accepts', () => {
  let small: TestVigil;
  beforeAll(async () => {
    // A small in-flight body budget: concurrent senders exceed it at once.
    small = await startTestVigil({ ingest: { maxInflightBytes: 4 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await small?.stop();
  });

  it('answers 503 code 9 "Server is busy" with Retry-After, and keeps what it acknowledged', async () => {
    // Ten senders each hold half of a 2 MB body in flight at the same time — 10 MB against a 4 MB
    // budget — so some must be refused; then every sender finishes its body.
    const lines = Array.from({ length: 2000 }, (_, i) => `flood line ${i} ${'x'.repeat(1000)}`).join('\n');
    const body = Buffer.from(lines);
    const half = Math.floor(body.length / 2);
    const { port } = new URL(small.server.urls.hec);
    const senders = Array.from({ length: 10 }, () => {
      const req = request({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/services/collector/raw?source=flood',
        headers: { authorization: `Splunk ${small.ingestToken}`, 'content-length': String(body.length) },
      });
      const answer = new Promise<{ status: number; retryAfter: string | undefined; json: unknown }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, json: JSON.parse(text) }));
        });
        // A refused sender may see its connection closed while still writing: that is the refusal.
        req.on('error', reject);
      });
      req.write(body.subarray(0, half));
      return { req, answer };
    });
    await new Promise((r) => setTimeout(r, 500));
    for (const s of senders) s.req.end(body.subarray(half));
    const results = await Promise.all(senders.map((s) => s.answer.catch(() => ({ status: 0, retryAfter: undefined, json: null }))));
    const busy = results.filter((r) => r.status === 503);
    const ok = results.filter((r) => r.status === 200);
    expect(busy.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(0);
    expect(busy[0]!.json).toEqual({ text: 'Server is busy', code: 9 });
    expect(Number(busy[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await countRows(small.server, 'otel_logs', `ServiceName = 'flood'`)).toBe(ok.length * 2000);
  });
});
