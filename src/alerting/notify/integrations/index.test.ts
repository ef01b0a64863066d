import { describe, expect, it } from 'vitest';
import { parseNotificationConfig } from '../config.ts';
import { buildReceivers } from './index.ts';
import { PAGERDUTY_V1_URL } from './pagerduty.ts';

const yaml = `
global:
  smtp_smarthost: 'mail.example.test:587'
  smtp_from: 'vigil@example.test'
  slack_api_url: 'https://hooks.slack.example.test/T/B/X'
  http_config:
    authorization: { credentials: 'global-token' }
route:
  receiver: everything
receivers:
  - name: everything
    webhook_configs:
      - url: 'http://hooks.example.test/a'
      - url: 'http://hooks.example.test/b'
        send_resolved: false
        http_config:
          basic_auth: { username: u, password: p }
    slack_configs:
      - channel: '#alerts'
    msteams_configs:
      - webhook_url: 'https://teams.example.test/hook'
    email_configs:
      - to: 'oncall@example.test'
    pagerduty_configs:
      - routing_key: 'rk'
      - service_key: 'sk'
  - name: nothing
`;

describe('buildReceivers', () => {
  it('builds one integration per configured entry, indexed per type, with global defaults', () => {
    const parsed = parseNotificationConfig(yaml);
    expect(parsed.errors).toEqual([]);
    const receivers = buildReceivers(parsed.config!);
    expect([...receivers.keys()]).toEqual(['everything', 'nothing']);
    const all = receivers.get('everything')!;
    expect(all.map((i) => `${i.type}[${i.index}]:${i.sendResolved}`)).toEqual([
      'webhook[0]:true',
      'webhook[1]:false',
      'slack[0]:false',
      'msteams[0]:true',
      'email[0]:false',
      'pagerduty[0]:true',
      'pagerduty[1]:true',
    ]);
    expect(receivers.get('nothing')).toEqual([]);
    // The global http_config applies where an integration has none of its own.
    const opts = (i: unknown) => (i as { opts: Record<string, unknown> }).opts;
    expect(opts(all[0])).toMatchObject({ auth: { authorization: { credentials: 'global-token' } } });
    expect(opts(all[1])).toMatchObject({ auth: { basicAuth: { username: 'u', password: 'p' } } });
    expect(opts(all[2])).toMatchObject({ apiUrl: 'https://hooks.slack.example.test/T/B/X' });
    expect(opts(all[4])).toMatchObject({ smarthost: 'mail.example.test:587', from: 'vigil@example.test' });
    // A service key alone speaks the v1 API at its own endpoint.
    expect(opts(all[6])).toMatchObject({ serviceKey: 'sk', url: PAGERDUTY_V1_URL });
  });
});
