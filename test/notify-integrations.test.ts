/**
 * Each notification integration against a real receiver on loopback: the webhook's exact
 * Alertmanager JSON, Slack/Teams/PagerDuty bodies, email through a real SMTP server, retries on
 * 500/500/200, and the outbound guard refusing what the policy forbids.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY } from '../src/net/outbound.ts';
import type { NotifyAlert } from '../src/alerting/types.ts';
import type { DeliveryContext, Notification } from '../src/alerting/notify/integrations/common.ts';
import { WebhookIntegration } from '../src/alerting/notify/integrations/webhook.ts';
import { SlackIntegration } from '../src/alerting/notify/integrations/slack.ts';
import { MsTeamsIntegration } from '../src/alerting/notify/integrations/msteams.ts';
import { PagerDutyIntegration, pagerDutyDedupKey } from '../src/alerting/notify/integrations/pagerduty.ts';
import { EmailIntegration } from '../src/alerting/notify/integrations/email.ts';
import { withRetry } from '../src/alerting/notify/retry.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const ctx: DeliveryContext = { idempotencyKey: 'k-123', policy: DEFAULT_OUTBOUND_POLICY, timeoutMs: 5000 };

const firing: NotifyAlert = {
  fingerprint: '1111111111111111',
  labels: { alertname: 'HighErrorRate', service_name: 'checkout', severity: 'critical', http_route: '/pay' },
  annotations: { summary: 'errors at 12%' },
  startsAt: NOW - 90_500,
  endsAt: NOW + 60_000,
  generatorURL: 'http://vigil.local/alerts/rules/r1',
  resolved: false,
};
const resolved: NotifyAlert = {
  fingerprint: '2222222222222222',
  labels: { alertname: 'HighErrorRate', service_name: 'checkout', severity: 'critical', http_route: '/cart' },
  annotations: { summary: 'errors at 9%' },
  startsAt: NOW - 600_000,
  endsAt: NOW - 1000,
  generatorURL: 'http://vigil.local/alerts/rules/r1',
  resolved: true,
};
const notification = (alerts: NotifyAlert[]): Notification => ({
  receiver: 'team-checkout',
  groupKey: '{}:{alertname="HighErrorRate"}',
  groupLabels: { alertname: 'HighErrorRate' },
  alerts,
  externalUrl: 'http://vigil.local',
  now: NOW,
});

let rx: TestReceiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => rx.close());

describe('webhook', () => {
  it("posts exactly Alertmanager's webhook JSON, with the idempotency key and http_config auth", async () => {
    rx.requests.length = 0;
    const w = new WebhookIntegration(0, { url: `${rx.url}/hook`, sendResolved: true, maxAlerts: 0, auth: { authorization: { type: 'Bearer', credentials: 's3cret' } } });
    const r = await w.notify(notification([firing, resolved]), ctx);
    expect(r).toEqual({ ok: true, recoverable: false, status: 200, error: null });
    const [req] = await rx.waitFor(1);
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/hook');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['idempotency-key']).toBe('k-123');
    expect(req!.headers.authorization).toBe('Bearer s3cret');
    expect(req!.body).toStrictEqual({
      receiver: 'team-checkout',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighErrorRate', http_route: '/pay', service_name: 'checkout', severity: 'critical' },
          annotations: { summary: 'errors at 12%' },
          startsAt: '2026-12-03T11:58:29.5Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://vigil.local/alerts/rules/r1',
          fingerprint: '1111111111111111',
        },
        {
          status: 'resolved',
          labels: { alertname: 'HighErrorRate', http_route: '/cart', service_name: 'checkout', severity: 'critical' },
          annotations: { summary: 'errors at 9%' },
          startsAt: '2026-12-03T11:50:00Z',
          endsAt: '2026-12-03T11:59:59Z',
          generatorURL: 'http://vigil.local/alerts/rules/r1',
          fingerprint: '2222222222222222',
        },
      ],
      groupLabels: { alertname: 'HighErrorRate' },
      commonLabels: { alertname: 'HighErrorRate', service_name: 'checkout', severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://vigil.local',
      version: '4',
      groupKey: '{}:{alertname="HighErrorRate"}',
      truncatedAlerts: 0,
    });
  });

  it('max_alerts truncates and counts; common labels are those of the alerts sent', async () => {
    rx.requests.length = 0;
    const w = new WebhookIntegration(0, { url: rx.url, sendResolved: true, maxAlerts: 1 });
    await w.notify(notification([{ ...firing, endsAt: null }, resolved]), ctx);
    const body = (await rx.waitFor(1))[0]!.body as { alerts: { endsAt: string }[]; truncatedAlerts: number; commonAnnotations: Record<string, string> };
    expect(body.alerts).toHaveLength(1);
    expect(body.truncatedAlerts).toBe(1);
    expect(body.commonAnnotations).toEqual({ summary: 'errors at 12%' });
  });

  it('500, 500, 200: three attempts, one delivery', async () => {
    rx.requests.length = 0;
    rx.script.push(500, 500);
    const w = new WebhookIntegration(0, { url: rx.url, sendResolved: true, maxAlerts: 0 });
    const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms / 50)), random: () => 0.5 };
    const r = await withRetry(() => w.notify(notification([firing]), ctx), { deadline: Date.now() + 60_000, clock });
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(rx.requests.map((q) => q.headers['idempotency-key'])).toEqual(['k-123', 'k-123', 'k-123']);
  });

  it('a 400 is not retried; a refused connection is', async () => {
    rx.requests.length = 0;
    rx.script.push(400);
    const w = new WebhookIntegration(0, { url: rx.url, sendResolved: true, maxAlerts: 0 });
    expect(await w.notify(notification([firing]), ctx)).toMatchObject({ ok: false, recoverable: false, status: 400 });
    const closed = await startReceiver();
    await closed.close();
    const dead = new WebhookIntegration(0, { url: `${closed.url}/x?token=abc`, sendResolved: true, maxAlerts: 0 });
    const r = await dead.notify(notification([firing]), ctx);
    expect(r).toMatchObject({ ok: false, recoverable: true, status: null });
    expect(r.error).not.toContain('token=abc');
  });

  it('goes through the outbound guard: loopback refused when the policy says so, and not retried', async () => {
    rx.requests.length = 0;
    const w = new WebhookIntegration(0, { url: rx.url, sendResolved: true, maxAlerts: 0 });
    const r = await w.notify(notification([firing]), { ...ctx, policy: { ...DEFAULT_OUTBOUND_POLICY, allowLoopback: false } });
    expect(r).toMatchObject({ ok: false, recoverable: false });
    expect(r.error).toMatch(/loopback/);
    expect(rx.requests).toHaveLength(0);
  });
});

describe('webhook redirects', () => {
  it('follows a 307 (body kept) unless http_config.follow_redirects is false', async () => {
    const hops: string[] = [];
    const server = createServer((req, res) => {
      hops.push(req.url ?? '');
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else req.resume().on('end', () => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/old`;
    try {
      expect(await new WebhookIntegration(0, { url, sendResolved: true, maxAlerts: 0 }).notify(notification([firing]), ctx)).toMatchObject({ ok: true, status: 200 });
      expect(hops).toEqual(['/old', '/new']);
      const r = await new WebhookIntegration(0, { url, sendResolved: true, maxAlerts: 0, auth: { followRedirects: false } }).notify(notification([firing]), ctx);
      expect(r).toMatchObject({ ok: false, recoverable: false, status: 307 });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('slack, msteams, pagerduty', () => {
  it('slack: incoming-webhook JSON with Alertmanager default texts and a color by status', async () => {
    rx.requests.length = 0;
    const s = new SlackIntegration(0, { apiUrl: `${rx.url}/slack`, sendResolved: true, channel: '#alerts' });
    expect((await s.notify(notification([firing, resolved]), ctx)).ok).toBe(true);
    expect((await rx.waitFor(1))[0]!.body).toStrictEqual({
      channel: '#alerts',
      username: 'Vigil',
      attachments: [
        {
          title: '[FIRING:1] HighErrorRate (checkout critical)',
          title_link: 'http://vigil.local/alerts?receiver=team-checkout',
          fallback: '[FIRING:1] HighErrorRate (checkout critical) | http://vigil.local/alerts?receiver=team-checkout',
          color: 'danger',
          mrkdwn_in: ['fallback', 'pretext', 'text'],
        },
      ],
    });
    rx.requests.length = 0;
    await new SlackIntegration(0, { apiUrl: rx.url, sendResolved: true, title: '{{ .Status | toUpper }} {{ .CommonLabels.service_name }}', text: '{{ .CommonAnnotations.summary }}' }).notify(notification([resolved]), ctx);
    const att = ((await rx.waitFor(1))[0]!.body as { attachments: Record<string, unknown>[] }).attachments[0]!;
    expect(att).toMatchObject({ title: 'RESOLVED checkout', text: 'errors at 9%', color: 'good' });
  });

  it('msteams: a MessageCard', async () => {
    rx.requests.length = 0;
    await new MsTeamsIntegration(0, { webhookUrl: `${rx.url}/teams`, sendResolved: true }).notify(notification([firing]), ctx);
    const body = (await rx.waitFor(1))[0]!.body as Record<string, string>;
    expect(body).toMatchObject({
      '@context': 'http://schema.org/extensions',
      type: 'MessageCard',
      title: '[FIRING:1] HighErrorRate (/pay checkout critical)',
      summary: '[FIRING:1] HighErrorRate (/pay checkout critical)',
      themeColor: '8C1A1A',
    });
    expect(body.text).toContain('# Alerts Firing:');
    expect(body.text).toContain('  - service_name = checkout');
  });

  it('pagerduty: Events API v2, trigger then resolve with the same dedup key', async () => {
    rx.requests.length = 0;
    const p = new PagerDutyIntegration(0, { routingKey: 'R0UT1NG', url: `${rx.url}/v2/enqueue`, sendResolved: true, severity: 'critical' });
    await p.notify(notification([firing]), ctx);
    await p.notify(notification([{ ...firing, resolved: true, endsAt: NOW - 1 }]), ctx);
    const [trigger, resolve] = (await rx.waitFor(2)).map((q) => q.body as Record<string, unknown>);
    const key = pagerDutyDedupKey('{}:{alertname="HighErrorRate"}');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(trigger).toMatchObject({ routing_key: 'R0UT1NG', event_action: 'trigger', dedup_key: key, client: 'Vigil', payload: { summary: '[FIRING:1] HighErrorRate (/pay checkout critical)', source: 'Vigil', severity: 'critical', custom_details: { num_firing: '1', num_resolved: '0' } } });
    expect(resolve).toMatchObject({ event_action: 'resolve', dedup_key: key });
  });
});

describe('pagerduty v1', () => {
  it('a service key alone sends the older Events API event', async () => {
    rx.requests.length = 0;
    await new PagerDutyIntegration(0, { serviceKey: 'S3RV1CE', url: `${rx.url}/generic/2010-04-15/create_event.json`, sendResolved: true }).notify(notification([firing]), ctx);
    expect((await rx.waitFor(1))[0]!.body).toMatchObject({ service_key: 'S3RV1CE', event_type: 'trigger', incident_key: pagerDutyDedupKey('{}:{alertname="HighErrorRate"}'), description: '[FIRING:1] HighErrorRate (/pay checkout critical)', client: 'Vigil', details: { num_firing: '1' } });
  });
});

describe('email', () => {
  let smtp: SMTPServer;
  let port = 0;
  const mails: { from: string; to: string[]; raw: string; user?: string }[] = [];
  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth(auth, _session, cb) {
        if (auth.username === 'vigil' && auth.password === 'pw') cb(null, { user: auth.username });
        else cb(new Error('bad credentials'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: session.user as string | undefined,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    port = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it('sends through a real SMTP server: subject, text and html bodies, headers, authentication', async () => {
    const e = new EmailIntegration(0, {
      to: 'oncall@example.test',
      from: 'vigil@example.test',
      smarthost: `127.0.0.1:${port}`,
      sendResolved: false,
      requireTls: false,
      authUsername: 'vigil',
      authPassword: 'pw',
      headers: { 'X-Team': '{{ .CommonLabels.service_name }}' },
    });
    const two = { ...firing, fingerprint: '3', labels: { ...firing.labels, http_route: '/refund' } };
    const r = await e.notify(notification([firing, two]), ctx);
    expect(r).toMatchObject({ ok: true });
    expect(mails).toHaveLength(1);
    const m = mails[0]!;
    expect(m.from).toBe('vigil@example.test');
    expect(m.to).toEqual(['oncall@example.test']);
    expect(m.user).toBe('vigil');
    expect(m.raw).toContain('Subject: [FIRING:2] HighErrorRate (checkout critical)');
    expect(m.raw).toContain('X-Team: checkout');
    expect(m.raw).toContain('X-Idempotency-Key: k-123');
    expect(m.raw).toMatch(/Content-Type: text\/plain/);
    expect(m.raw).toMatch(/Content-Type: text\/html/);
    expect(m.raw).toContain('service_name = checkout');
  });

  it('a refused login is a permanent failure without the password in the error', async () => {
    const e = new EmailIntegration(0, { to: 'a@example.test', from: 'b@example.test', smarthost: `127.0.0.1:${port}`, sendResolved: false, requireTls: false, authUsername: 'vigil', authPassword: 'wrong-pass' });
    const r = await e.notify(notification([firing]), ctx);
    expect(r.ok).toBe(false);
    expect(r.recoverable).toBe(false);
    expect(r.error).not.toContain('wrong-pass');
  });

  it('the smarthost goes through the outbound guard', async () => {
    const e = new EmailIntegration(0, { to: 'a@example.test', from: 'b@example.test', smarthost: `127.0.0.1:${port}`, sendResolved: false, requireTls: false });
    const before = mails.length;
    const r = await e.notify(notification([firing]), { ...ctx, policy: { ...DEFAULT_OUTBOUND_POLICY, deny: ['127.0.0.0/8'] } });
    expect(r).toMatchObject({ ok: false, recoverable: false });
    expect(mails.length).toBe(before);
  });
});
