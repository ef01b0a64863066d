/**
 * Remediation actions without a server: validation of templates and fields, secret headers sealed,
 * masked and kept, the request rendered from incident and input, and the call through the outbound
 * guard honouring its policy (a real loopback receiver).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY } from '../net/outbound.ts';
import { SecretBox } from '../security/secrets.ts';
import type { ActionRecord } from '../store/state/actions.ts';
import { startReceiver, type TestReceiver } from '../../test/helpers/notify-receiver.ts';
import { actionEntry, actionWrite, checkRunInput, parseActionInput, previewOf, renderRequest, sealHeaders, templateFields } from './actions.ts';
import { RemediationInputError } from './errors.ts';
import { sendRequest } from './run.ts';

const box = new SecretBox(randomBytes(32));
const incident = { id: 7, title: 'Checkout "down"', severity: 'SEV2', status: 'investigating', services: ['checkout', 'cart'], systems: ['shop'], url: 'https://vigil.example/incidents/7' };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RemediationInputError) return err.field;
    throw err;
  }
  throw new Error('not refused');
}

function record(over: Partial<Parameters<typeof parseActionInput>[0] & object> = {}): ActionRecord {
  const input = parseActionInput({ name: 'restart', url: 'http://ops.internal/restart/{{ .Input.service | urlquery }}', inputs: { service: 'which' }, ...over });
  return { id: 1, ...actionWrite(input, box, 'user:rita', 0) };
}

describe('action input', () => {
  it('takes a full action and fills defaults', () => {
    expect(parseActionInput({ name: 'flush', url: 'https://x.example/flush' })).toEqual({ name: 'flush', description: '', method: 'POST', url: 'https://x.example/flush', headers: {}, body: '', inputs: {}, services: [], timeoutSeconds: 10 });
  });

  it('refuses what a run could not render, naming the field', () => {
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/{{ .Input.a }}' }))).toBe('url');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/{{ .Incident.Owner }}' }))).toBe('url');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/', body: '{{ if .Incident.ID }}x{{ end }}' }))).toBe('body');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/', headers: { 'X-A': '{{ .Input.b }}' } }))).toBe('headers.X-A');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/', headers: { 'X-A': 'a\nb' } }))).toBe('headers.X-A');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: '{{ .Input.u }}', inputs: { u: 'url' } }))).toBe('url');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/', services: 'checkout' }))).toBe('services');
    expect(fieldOf(() => parseActionInput({ name: 'x', url: 'http://h/', timeoutSeconds: 0 }))).toBe('timeoutSeconds');
    expect(fieldOf(() => parseActionInput([]))).toBe('body');
  });
});

describe('secret headers', () => {
  it('are sealed, masked in answers, and kept by <secret>', () => {
    const a = record({ headers: { Authorization: 'Bearer t0p', 'X-Api-Key': 'k', Accept: 'text/plain' } });
    expect(a.headers.Authorization).toMatch(/^sealed:v1:/);
    expect(a.headers['X-Api-Key']).toMatch(/^sealed:v1:/);
    expect(a.headers.Accept).toBe('text/plain');
    expect(actionEntry(a).headers).toEqual({ Authorization: '<secret>', 'X-Api-Key': '<secret>', Accept: 'text/plain' });
    const kept = sealHeaders({ authorization: '<secret>', 'X-Api-Key': 'new' }, box, a.headers);
    expect(kept.authorization).toBe(a.headers.Authorization);
    expect(box.decrypt(kept['X-Api-Key']!.slice('sealed:'.length))).toBe('new');
    expect(fieldOf(() => sealHeaders({ Cookie: '<secret>' }, box, {}))).toBe('headers.Cookie');
    const other = new SecretBox(randomBytes(32));
    expect(fieldOf(() => sealHeaders({ Authorization: a.headers.Authorization! }, other))).toBe('headers.Authorization');
  });
});

describe('rendering', () => {
  it('fills the incident and the input in, opening secrets for the call and masking them in the preview', () => {
    const a = record({
      url: 'http://ops.internal/restart/{{ .Input.service | urlquery }}?i={{ .Incident.ID }}&s={{ .Incident.Services }}',
      headers: { Authorization: 'Bearer {{ .Input.service }}-t0k', 'X-Severity': '{{ .Incident.Severity | toLower }}' },
      body: '{"title": {{ .Incident.Title | toJson }}, "url": "{{ .Incident.URL }}", "systems": "{{ .Incident.Systems }}", "status": "{{ .Incident.Status }}"}',
    });
    const input = checkRunInput(a, { service: 'a b' });
    const r = renderRequest(a, templateFields(incident, input), box);
    expect(r).toMatchObject({ method: 'POST', url: 'http://ops.internal/restart/a%20b?i=7&s=checkout,cart', headers: { Authorization: 'Bearer a b-t0k', 'X-Severity': 'sev2' } });
    expect(JSON.parse(r.body)).toEqual({ title: 'Checkout "down"', url: 'https://vigil.example/incidents/7', systems: 'shop', status: 'investigating' });
    expect(previewOf(r).headers).toEqual({ Authorization: '<secret>', 'X-Severity': 'sev2' });
  });

  it('checks the input: unknown names refused, missing ones empty, values strings', () => {
    const a = record();
    expect(checkRunInput(a, undefined)).toEqual({ service: '' });
    expect(fieldOf(() => checkRunInput(a, { servce: 'x' }))).toBe('input.servce');
    expect(fieldOf(() => checkRunInput(a, { service: 3 }))).toBe('input.service');
    expect(fieldOf(() => checkRunInput(a, 'x'))).toBe('input');
  });

  it('refuses a URL that renders to something else than http(s), and a header split by the input', () => {
    // Saved actions always render a valid URL; a stored one that does not (edited in the database) is still refused.
    const a = { ...record(), url: 'ftp://h/{{ .Input.service }}' };
    expect(fieldOf(() => renderRequest(a, templateFields(incident, { service: 'x' }), box))).toBe('url');
    const b = record({ url: 'http://h/', headers: { 'X-Reason': '{{ .Input.r }}' }, inputs: { r: 'why' } });
    expect(fieldOf(() => renderRequest(b, templateFields(incident, { r: 'a\r\nX-Evil: 1' }), box))).toBe('headers.X-Reason');
  });
});

describe('the call', () => {
  let target: TestReceiver;
  beforeAll(async () => {
    target = await startReceiver();
  });
  afterAll(async () => target?.close());

  it('goes through the outbound policy: loopback refused when the policy refuses it, sent when allowed', async () => {
    const req = { method: 'PUT', url: `${target.url}/x`, headers: {}, body: 'plain words', secretHeaders: [] };
    const refused = await sendRequest(req, { policy: { ...DEFAULT_OUTBOUND_POLICY, allowLoopback: false }, timeoutMs: 2000 });
    expect(refused).toMatchObject({ ok: false, status: null });
    expect(refused.result).toMatch(/refused by the outbound policy: .*loopback/);
    expect(target.requests).toHaveLength(0);
    const sent = await sendRequest(req, { policy: DEFAULT_OUTBOUND_POLICY, timeoutMs: 2000 });
    expect(sent).toMatchObject({ ok: true, status: 200, result: 'ok' });
    expect(target.requests[0]).toMatchObject({ method: 'PUT', path: '/x', body: 'plain words', headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'Vigil-Remediation/1.0' } });
  });
});
