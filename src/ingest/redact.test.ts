import { describe, expect, it } from 'vitest';
import type { LogRow, SpanRow } from '../model/telemetry.ts';
import { DEFAULT_RULES, DEFAULT_SECRET_KEYS, luhn, Redactor } from './redact.ts';

const counts = new Map<string, number>();
const r = new Redactor(DEFAULT_RULES, DEFAULT_SECRET_KEYS, (rule, n) => counts.set(rule, (counts.get(rule) ?? 0) + n));

describe('Redactor.text', () => {
  it.each([
    ['payment failed for jane.doe+rms@example.co.uk', 'payment failed for [REDACTED:email]'],
    ['card 4111 1111 1111 1111 declined', 'card [REDACTED:card] declined'],
    ['card 4111-1111-1111-1111', 'card [REDACTED:card]'],
    ['order 1234567890123456 shipped', 'order 1234567890123456 shipped'],
    ['GET /reset?user=7&token=abc123def&x=1', 'GET /reset?user=7&token=[REDACTED]&x=1'],
    ['GET /login?password=hunter2', 'GET /login?password=[REDACTED]'],
    ['postgres://rms:s3cret@db:5432/rms', 'postgres://[REDACTED]@db:5432/rms'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc', 'Authorization: Bearer [REDACTED]'],
    ['nothing to see here', 'nothing to see here'],
  ])('%s', (input, output) => expect(r.text(input)).toBe(output));

  it('counts per rule', () => {
    counts.clear();
    r.text('a@b.io c@d.io 4111111111111111');
    expect(Object.fromEntries(counts)).toEqual({ email: 2, card: 1 });
  });
});

describe('luhn', () => {
  it('accepts card numbers and rejects others', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
  });
});

describe('Redactor.batch', () => {
  it('redacts bodies, attributes (nested), secret keys, span names and event attributes', () => {
    const resource = { serviceName: 's', serviceNamespace: '', serviceVersion: '', hostName: '', attributes: { 'db.password': 'x1', 'service.name': 's' } };
    const log = { body: 'login by a@b.io', attributes: { 'http.request.header.authorization': 'Basic dXNlcjpwYXNz', nested: { email: 'c@d.io' }, list: ['e@f.io'] }, resource } as unknown as LogRow;
    const span = { name: 'GET /x?api_key=zzz', statusMessage: '', attributes: { 'url.full': 'https://u:p@h/x' }, events: [{ attributes: { 'exception.message': 'bad card 4111111111111111' } }], resource } as unknown as SpanRow;
    r.batch({ logs: [log], spans: [span], metrics: [] });
    expect(log.body).toBe('login by [REDACTED:email]');
    expect(log.attributes).toEqual({ 'http.request.header.authorization': '[REDACTED]', nested: { email: '[REDACTED:email]' }, list: ['[REDACTED:email]'] });
    expect(resource.attributes).toEqual({ 'db.password': '[REDACTED]', 'service.name': 's' });
    expect(span.name).toBe('GET /x?api_key=[REDACTED]');
    expect(span.attributes['url.full']).toBe('https://[REDACTED]@h/x');
    expect(span.events[0]!.attributes['exception.message']).toBe('bad card [REDACTED:card]');
  });

  it('matches secret words as whole key segments only', () => {
    const a = { 'token.count': 3, tokenizer: 'x', 'auth.method': 'password' };
    expect(new Redactor([], DEFAULT_SECRET_KEYS).attributes({ ...a })).toEqual({ 'token.count': '[REDACTED]', tokenizer: 'x', 'auth.method': 'password' });
  });
});
