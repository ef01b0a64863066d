import { describe, expect, it } from 'vitest';
import type { LogRow, MetricRow, ResourceInfo, SpanRow } from '../model/telemetry.ts';
import { buildRedactor, DEFAULT_RULES, defaultKeyRule, isCardNumber, luhn, Redactor } from './redact.ts';

const counts = new Map<string, number>();
const r = new Redactor(DEFAULT_RULES, defaultKeyRule, (rule, n) => counts.set(rule, (counts.get(rule) ?? 0) + n));

describe('Redactor.text', () => {
  it.each([
    ['payment failed for jane.doe+rms@example.co.uk', 'payment failed for [REDACTED:email]'],
    ['card 4111 1111 1111 1111 declined', 'card [REDACTED:card] declined'],
    ['card 4111-1111-1111-1111', 'card [REDACTED:card]'],
    ['card 4111.1111.1111.1111', 'card [REDACTED:card]'],
    ['pan=card4111111111111111exp', 'pan=card[REDACTED:card]exp'],
    ['order 1234567890123456 shipped', 'order 1234567890123456 shipped'],
    ['GET /reset?user=7&token=abc123def&x=1', 'GET /reset?user=7&token=[REDACTED]&x=1'],
    ['GET /login?password=hunter2', 'GET /login?password=[REDACTED]'],
    ['login with password=x ok', 'login with password=[REDACTED] ok'],
    ['{"user":"bob","password":"x"}', '{"user":"bob","password":"[REDACTED]"}'],
    ["pwd: 'hunter2'", "pwd: '[REDACTED]'"],
    ['secret: s3cr3t', 'secret: [REDACTED]'],
    ['api_key: abc123', 'api_key: [REDACTED]'],
    ['postgres://rms:s3cret@db:5432/rms', 'postgres://[REDACTED]@db:5432/rms'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc', 'Authorization: Bearer [REDACTED]'],
    ['sent bearer abc123def456 upstream', 'sent bearer [REDACTED] upstream'],
    ['Token ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0123456789', 'Token [REDACTED:token]'],
    ['Cookie: session=abc123; theme=dark', 'Cookie: [REDACTED]'],
    ['header vgl_q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA', 'header [REDACTED:token]'],
    ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key=[REDACTED]'],
    ['nothing to see here', 'nothing to see here'],
  ])('%s', (input, output) => expect(r.text(input)).toBe(output));

  it.each([
    ['UPDATE users SET password = ? WHERE id = ?'],
    ['SyntaxError: Unexpected token: punc (})'],
    ['token expired, prompting re-login'],
    ['Basic authentication is disabled'],
    ['token_count=1532 max_tokens=1024 tokenizer=cl100k_base'],
    ['bypass=false passed=12'],
    ['PWD=/srv/app'],
    ['ts=1728568536123 ns=1728568536123456789'],
    ['trace id ab4111111111111111cd0123456789ef (a card number inside a hex id)'],
  ])('keeps %s', (input) => expect(r.text(input)).toBe(input));

  it('is idempotent: a second pass changes nothing (shared resources can come back)', () => {
    for (const s of ['Authorization: Token ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0123456789', 'git clone https://ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0123456789@github.com/o/r', 'password="x" Cookie: a=b']) {
      const once = r.text(s);
      expect(r.text(once)).toBe(once);
    }
  });

  it('takes linear time on hostile text (senders are untrusted; these took minutes with per-position rescans)', () => {
    const n = 100_000;
    for (const s of ['a'.repeat(n) + '@', 'a.'.repeat(n / 2) + '://', 'eyJ-'.repeat(n / 4), '-----BEGIN PRIVATE KEY-----'.repeat(n / 27), 'cookie: x '.repeat(n / 10), 'a@' + 'a.'.repeat(n / 2), '4111111111111111a'.repeat(n / 17)]) {
      const t0 = performance.now();
      r.text(s);
      expect(performance.now() - t0, s.slice(0, 20)).toBeLessThan(3000);
    }
  });

  it('counts per rule, also for strings seen before', () => {
    counts.clear();
    r.text('a@b.io c@d.io 4111111111111111');
    r.text('a@b.io c@d.io 4111111111111111');
    expect(Object.fromEntries(counts)).toEqual({ email: 4, card: 2 });
  });
});

describe('cards', () => {
  it('luhn accepts card numbers and rejects others', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
  });

  it('needs an issuer prefix with its length, so epoch times and ids stay', () => {
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('378282246310005')).toBe(true);
    expect(isCardNumber('4222222222222')).toBe(true); // 13-digit Visa
    expect(isCardNumber('1728568536123')).toBe(false); // epoch ms starts with 1
    expect(isCardNumber('37828224631000')).toBe(false); // Amex is 15 digits
  });
});

describe('defaultKeyRule', () => {
  it.each([
    'password', 'userPassword', 'db.password', 'accessToken', 'authToken', 'secretKey', 'pass', 'passphrase', 'jwt', 'session_id', 'session.id',
    'auth', 'credit_card', 'ssn', 'http.request.header.authorization', 'http.request.header.x-api-key', 'X-Auth-Token', 'Set-Cookie', 'client_secret', 'aws.secret_access_key',
  ])('%s is a secret', (key) => expect(defaultKeyRule(key)).toBe('secret'));

  it.each(['token.count', 'token_count', 'max_tokens', 'gen_ai.usage.input_tokens', 'tokenizer', 'auth.method', 'k8s.secret.name', 'password.length', 'author', 'http.route'])('%s is not', (key) =>
    expect(['keep', 'text']).toContain(defaultKeyRule(key)),
  );

  it('plural keys lose strings but keep counts', () => {
    expect(new Redactor([], defaultKeyRule).attributes({ 'gen_ai.usage.input_tokens': 1532, tokens: ['a1', 'b2'], pin: 1234, password: 1234, otp: 123456, flag_auth: true })).toEqual({
      'gen_ai.usage.input_tokens': 1532,
      tokens: '[REDACTED]',
      pin: 1234,
      password: '[REDACTED]',
      otp: '[REDACTED]',
      flag_auth: true,
    });
  });
});

describe('Redactor.attributes', () => {
  it('applies key rules at every depth of nested objects and arrays', () => {
    const a = { user: { name: 'bob', credentials: { user: 'bob', pass: 'x' }, accessToken: 't' }, list: [{ password: 'y' }, 'e@f.io'], 'token.count': 3 };
    expect(r.attributes(a)).toEqual({ user: { name: 'bob', credentials: '[REDACTED]', accessToken: '[REDACTED]' }, list: [{ password: '[REDACTED]' }, '[REDACTED:email]'], 'token.count': 3 });
  });

  it('redacts card numbers sent as numbers, and secrets in keys', () => {
    expect(r.attributes({ card: 4111111111111111, amount: 4111, 'jane@example.com': 1 })).toEqual({ card: '[REDACTED:card]', amount: 4111, '[REDACTED:email]': 1 });
  });
});

describe('Redactor.batch', () => {
  const resource = (): ResourceInfo => ({
    serviceName: 'pay 4111111111111111',
    serviceNamespace: 'ops@example.com',
    serviceVersion: '1.0',
    hostName: 'ops@example.com',
    attributes: { 'db.password': 'x1', 'service.name': 'pay 4111111111111111', 'service.namespace': 'ops@example.com', 'host.name': 'ops@example.com' },
  });

  it('redacts every stored string of logs, spans and metrics; promoted resource columns match the attributes', () => {
    const res = resource();
    const scope = { name: 'lib a@b.io', version: '1' };
    const log = { body: 'login by a@b.io', severityText: 'ERROR a@b.io', attributes: { 'http.request.header.authorization': 'Basic dXNlcjpwYXNz', nested: { email: 'c@d.io' } }, resource: res, scope } as unknown as LogRow;
    const span = {
      name: 'GET /x?api_key=zzz',
      statusMessage: 'card 4111111111111111',
      traceState: 'vendor=a@b.io',
      attributes: { 'url.full': 'https://u:p@h/x' },
      events: [{ name: 'mail to a@b.io', attributes: { 'exception.message': 'bad card 4111111111111111' } }],
      links: [{ traceState: '', attributes: { 'peer.email': 'x@y.io', token: 'abc' } }],
      resource: res,
      scope,
    } as unknown as SpanRow;
    const metric = { name: 'm', description: 'per user a@b.io', unit: '1', attributes: { password: 'p' }, resource: res, scope } as unknown as MetricRow;
    r.batch({ logs: [log], spans: [span], metrics: [metric] });
    expect(log.body).toBe('login by [REDACTED:email]');
    expect(log.severityText).toBe('ERROR [REDACTED:email]');
    expect(log.attributes).toEqual({ 'http.request.header.authorization': '[REDACTED]', nested: { email: '[REDACTED:email]' } });
    expect(res.attributes).toEqual({ 'db.password': '[REDACTED]', 'service.name': 'pay [REDACTED:card]', 'service.namespace': '[REDACTED:email]', 'host.name': '[REDACTED:email]' });
    expect([res.serviceName, res.serviceNamespace, res.hostName]).toEqual(['pay [REDACTED:card]', '[REDACTED:email]', '[REDACTED:email]']);
    expect(scope.name).toBe('lib [REDACTED:email]');
    expect(span.name).toBe('GET /x?api_key=[REDACTED]');
    expect(span.statusMessage).toBe('card [REDACTED:card]');
    expect(span.traceState).toBe('vendor=[REDACTED:email]');
    expect(span.attributes['url.full']).toBe('https://[REDACTED]@h/x');
    expect(span.events[0]!.name).toBe('mail to [REDACTED:email]');
    expect(span.events[0]!.attributes['exception.message']).toBe('bad card [REDACTED:card]');
    expect(span.links[0]!.attributes).toEqual({ 'peer.email': '[REDACTED:email]', token: '[REDACTED]' });
    expect(metric.description).toBe('per user [REDACTED:email]');
    expect(metric.attributes).toEqual({ password: '[REDACTED]' });
  });

  it('redacts a shared resource once per batch', () => {
    counts.clear();
    const res = resource();
    const logs = Array.from({ length: 3 }, () => ({ body: '', severityText: '', attributes: {}, resource: res, scope: { name: '', version: '' } }) as unknown as LogRow);
    r.batch({ logs, spans: [], metrics: [] });
    expect(counts.get('secret_key')).toBe(1);
  });
});

describe('buildRedactor', () => {
  it('adds custom rules to the defaults, or uses them alone', () => {
    const custom = { name: 'national_id', pattern: String.raw`\b\d{3}-\d{2}-\d{4}\b`, replacement: '[REDACTED:id]' };
    const both = buildRedactor({ defaults: true, rules: [custom] }, () => undefined);
    expect(both.text('id 123-45-6789 of a@b.io')).toBe('id [REDACTED:id] of [REDACTED:email]');
    const alone = buildRedactor({ defaults: false, rules: [custom] }, () => undefined);
    expect(alone.text('id 123-45-6789 of a@b.io')).toBe('id [REDACTED:id] of a@b.io');
    expect(alone.attributes({ password: 'x' })).toEqual({ password: 'x' });
  });
});
