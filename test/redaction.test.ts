/**
 * Redaction end to end: secrets sent through the real OTLP/HTTP receiver (official SDK exporters and
 * hand-made JSON with span events and links) and the Splunk HEC receiver (nested event objects and
 * fields, raw lines) must be nowhere in the store — not in bodies, attributes at any depth, events,
 * links, scopes, nor the promoted ServiceName/HostName/SeverityText columns — and nowhere in what the
 * search API answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

const CARD = '4111 1111 1111 1111';
const CARD_DOTS = '5555.5555.5555.4444';
const EMAIL = 'jane.doe@example.com';
const GHP = 'ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0123456789';
const VGL = 'vgl_q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLWJ5dGVz';
/** Secret values that each appear in one or more places below; none may be stored. */
const SECRETS = [
  CARD, CARD_DOTS, EMAIL, GHP, VGL, AWS_SECRET, JWT,
  'hunter2', 'Tr0ub4dor', 'pa55phrase', 'sess-8f14e45f', 'authTok-77', 'cookieval-9', 'linkSecret-5', 'eventPw-3', 'hecPw-1', 'hecField-2', 'rawPw-4', '078-05-1120', 'ssn-in-field', 'nested-apikey-6',
];
const SDK_PASSWORD = 'sdkPw-0';
SECRETS.push(SDK_PASSWORD);

let v: TestVigil;
let readToken: string;

/** Recent time in ns as a string (OTLP JSON). */
function nowNs(): string {
  return String(BigInt(Date.now() - 1000) * 1_000_000n);
}

async function post(url: string, body: string, authorization: string, contentType = 'application/json'): Promise<void> {
  const res = await fetch(url, { method: 'POST', body, headers: { authorization, 'content-type': contentType } });
  expect(res.status, await res.clone().text()).toBe(200);
}

const kv = (key: string, value: unknown) => ({ key, value });
const s = (v: string) => ({ stringValue: v });

beforeAll(async () => {
  v = await startTestVigil();
  readToken = await v.server.tokens.create('reader', 'read');
  const otlp = v.server.urls.otlp;
  const bearer = `Bearer ${v.ingestToken}`;
  // The promoted columns come from resource attributes: a card in the service name, an e-mail as host.
  const resource = {
    attributes: [kv('service.name', s(`checkout ${CARD}`)), kv('service.namespace', s('shop')), kv('host.name', s(EMAIL)), kv('db.password', s('hunter2'))],
  };
  const scope = { name: `lib ${EMAIL}`, version: '1.0' };

  await post(
    `${otlp}/v1/logs`,
    JSON.stringify({
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              scope,
              logRecords: [
                {
                  timeUnixNano: nowNs(),
                  severityNumber: 17,
                  severityText: `ERROR for ${EMAIL}`,
                  body: s(`login failed: {"user":"bob","password":"Tr0ub4dor"} card ${CARD_DOTS} Authorization: token ${GHP}`),
                  attributes: [
                    kv('userPassword', s('pa55phrase')),
                    kv('session_id', s('sess-8f14e45f')),
                    kv('http.request.header.cookie', s('sid=cookieval-9')),
                    kv('request', { kvlistValue: { values: [kv('headers', { kvlistValue: { values: [kv('authToken', s('authTok-77'))] } }), kv('note', s(`aws_secret_access_key=${AWS_SECRET}`))] } }),
                    kv('tokens', { arrayValue: { values: [s(VGL)] } }),
                    kv('gen_ai.usage.input_tokens', { intValue: 1532 }),
                  ],
                },
              ],
            },
          ],
        },
      ],
    }),
    bearer,
  );

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  await post(
    `${otlp}/v1/traces`,
    JSON.stringify({
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope,
              spans: [
                {
                  traceId,
                  spanId: '00f067aa0ba902b7',
                  name: `GET /reset?token=${VGL}`,
                  kind: 2,
                  startTimeUnixNano: nowNs(),
                  endTimeUnixNano: nowNs(),
                  attributes: [kv('url.full', s(`https://bob:hunter2@shop.example/pay?card=${CARD}`)), kv('enduser.id', s(EMAIL))],
                  status: { code: 2, message: `bearer ${JWT}` },
                  events: [{ timeUnixNano: nowNs(), name: `mail sent to ${EMAIL}`, attributes: [kv('password', s('eventPw-3')), kv('exception.message', s(`ssn=078-05-1120`))] }],
                  links: [{ traceId: 'aaf92f3577b34da6a3ce929d0e0e4736', spanId: '11f067aa0ba902b7', attributes: [kv('client_secret', s('linkSecret-5')), kv('peer', s(EMAIL))] }],
                },
              ],
            },
          ],
        },
      ],
    }),
    bearer,
  );

  // The official SDK exporters (protobuf), with a secret-named attribute and a bearer token in text.
  const sdkResource = resourceFromAttributes({ 'service.name': 'sdk-svc', 'host.name': 'sdk-host' });
  const headers = { Authorization: bearer };
  const logs = new LoggerProvider({ resource: sdkResource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${otlp}/v1/logs`, headers }) })] });
  logs.getLogger('sdk').emit({ severityNumber: SeverityNumber.WARN, body: `retrying with Bearer ${JWT}`, attributes: { api_key: SDK_PASSWORD } });
  await logs.forceFlush();
  const traces = new BasicTracerProvider({ resource: sdkResource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces`, headers }))] });
  const span = traces.getTracer('sdk').startSpan('charge', { kind: SpanKind.CLIENT, attributes: { 'payment.card': CARD, secretKey: SDK_PASSWORD } });
  span.addEvent('exception', { 'exception.message': `declined for ${EMAIL}` });
  span.setStatus({ code: SpanStatusCode.ERROR, message: `card ${CARD} declined` });
  span.end();
  await traces.forceFlush();

  // HEC: a nested event object and nested fields, then a raw line.
  const splunk = `Splunk ${v.ingestToken}`;
  await post(
    `${v.server.urls.hec}/services/collector/event`,
    JSON.stringify({
      event: { message: `order paid by ${EMAIL}`, level: 'info', user: { name: 'bob', password: 'hecPw-1', card: CARD, profile: { 'X-Api-Key': 'nested-apikey-6' } } },
      host: EMAIL,
      sourcetype: 'pos:json',
      fields: { 'service.name': 'pos', auth: { token: 'hecField-2' }, customer: { ssn: 'ssn-in-field' } },
    }),
    splunk,
  );
  await post(`${v.server.urls.hec}/services/collector/raw?sourcetype=app&host=raw-host`, `WARN db connect pwd=rawPw-4 to ${EMAIL}\n`, splunk, 'text/plain');
});

afterAll(async () => {
  await v?.stop();
});

/** Every row of a table as JSON text (bigints as strings), to search for secrets anywhere in it. */
async function dump(table: string): Promise<string> {
  const rows = await v.server.store.query(`SELECT * FROM ${table}`);
  return JSON.stringify(rows, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

describe('redaction before storage', () => {
  it('stores every record, and no secret anywhere in any table', async () => {
    const logs = await dump('otel_logs');
    const spans = await dump('otel_traces');
    // The records are there (redacted, not dropped): 1 OTLP JSON + 1 SDK + 2 HEC logs; 1 JSON + 1 SDK span.
    expect((JSON.parse(logs) as unknown[]).length).toBe(4);
    expect((JSON.parse(spans) as unknown[]).length).toBe(2);
    for (const text of [logs, spans]) {
      for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
      expect(text).toContain('[REDACTED');
    }
    // Plural key of a count: kept.
    expect(logs).toContain('1532');
  });

  it('redacts the promoted ServiceName, HostName and SeverityText columns like the JSON copies', async () => {
    const rows = await v.server.store.query(`SELECT ServiceName, HostName, SeverityText, ResourceAttributes FROM otel_logs WHERE ServiceName LIKE 'checkout%'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ServiceName: 'checkout [REDACTED:card]', HostName: '[REDACTED:email]', SeverityText: 'ERROR for [REDACTED:email]' });
    expect(JSON.parse(String(rows[0]!.ResourceAttributes))).toMatchObject({ 'service.name': 'checkout [REDACTED:card]', 'host.name': '[REDACTED:email]', 'db.password': '[REDACTED]' });
    const hec = await v.server.store.query(`SELECT HostName FROM otel_logs WHERE ServiceName = 'pos'`);
    expect(hec).toEqual([{ HostName: '[REDACTED:email]' }]);
    const spans = await v.server.store.query(`SELECT ServiceName, HostName, ScopeName FROM otel_traces WHERE ServiceName LIKE 'checkout%'`);
    expect(spans).toEqual([{ ServiceName: 'checkout [REDACTED:card]', HostName: '[REDACTED:email]', ScopeName: 'lib [REDACTED:email]' }]);
  });

  it('keeps the shape of span events and links while redacting their names and attributes', async () => {
    const [row] = await v.server.store.query(`SELECT SpanName, StatusMessage, Events, Links FROM otel_traces WHERE ServiceName LIKE 'checkout%'`);
    expect(row!.SpanName).toBe('GET /reset?token=[REDACTED:token]');
    expect(row!.StatusMessage).toBe('bearer [REDACTED:jwt]');
    const events = JSON.parse(String(row!.Events)) as { Name: string; Attributes: Record<string, unknown> }[];
    expect(events[0]).toMatchObject({ Name: 'mail sent to [REDACTED:email]', Attributes: { password: '[REDACTED]', 'exception.message': 'ssn=[REDACTED]' } });
    const links = JSON.parse(String(row!.Links)) as { Attributes: Record<string, unknown> }[];
    expect(links[0]!.Attributes).toEqual({ client_secret: '[REDACTED]', peer: '[REDACTED:email]' });
  });

  it('leaves nothing for the search API to find', async () => {
    for (const q of ['from logs', 'from spans']) {
      const res = await fetch(`${v.server.urls.api}/api/v1/search?since=1h&limit=100&q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${readToken}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { rows: unknown[] };
      expect(body.rows.length).toBeGreaterThan(0);
      const text = JSON.stringify(body);
      for (const secret of SECRETS) expect(text, `${q}: ${secret}`).not.toContain(secret);
    }
    // Searching for a secret finds nothing.
    const res = await fetch(`${v.server.urls.api}/api/v1/search?since=1h&q=${encodeURIComponent('"hunter2"')}`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([]);
  });
});
