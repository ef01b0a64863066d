import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../security/secrets.ts';
import { parseNotificationConfig, type NotificationConfig } from './config.ts';
import { maskSecrets, mergeMaskedSecrets, sealSecrets, unsealSecrets } from './secrets.ts';

const TEXT = `# notifications
global:
  smtp_smarthost: mail.example.com:587
  smtp_from: vigil@example.com
  smtp_auth_password: smtp-pass # the relay's password
  slack_api_url: https://hooks.slack.com/services/T/B/global
route:
  receiver: hooks
receivers:
  - name: hooks
    webhook_configs:
      - url: http://127.0.0.1:9/hook?token=url-secret
        http_config:
          authorization: { type: Bearer, credentials: bearer-secret }
  - name: chat
    slack_configs:
      - api_url: https://hooks.slack.com/services/T/B/slack-secret
        channel: '#alerts'
    msteams_configs:
      - webhook_url: https://example.webhook.office.com/teams-secret
    email_configs:
      - to: oncall@example.com
        auth_password: mail-secret
    pagerduty_configs:
      - routing_key: pd-secret
        http_config:
          basic_auth: { username: u, password: basic-secret }
`;
const SECRETS = ['smtp-pass', 'services/T/B/global', 'url-secret', 'bearer-secret', 'slack-secret', 'teams-secret', 'mail-secret', 'pd-secret', 'basic-secret'];

const box = new SecretBox(randomBytes(32));

function config(text: string): NotificationConfig {
  const r = parseNotificationConfig(text);
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('maskSecrets', () => {
  it('hides every secret field and keeps comments and the rest', () => {
    const masked = maskSecrets(TEXT);
    for (const s of SECRETS) expect(masked).not.toContain(s);
    expect(masked.match(/<secret>/g)).toHaveLength(SECRETS.length);
    expect(masked).toContain('# notifications');
    expect(masked).toContain("# the relay's password");
    expect(masked).toContain("channel: '#alerts'");
    expect(masked).toContain('username: u');
  });

  it('shows nothing of a file that does not parse', () => {
    const masked = maskSecrets('receivers:\n  - name: x\n    webhook_configs: [{url: http://secret\n');
    expect(masked).not.toContain('secret\n');
    expect(masked.startsWith('#')).toBe(true);
  });
});

describe('sealSecrets and unsealSecrets', () => {
  it('seals at rest, keeps comments, and opens back to the same configuration', () => {
    const sealed = sealSecrets(TEXT, box);
    for (const s of SECRETS) expect(sealed).not.toContain(s);
    expect(sealed.match(/sealed:v1:/g)).toHaveLength(SECRETS.length);
    expect(sealed).toContain("# the relay's password");
    const opened = unsealSecrets(config(sealed), box);
    expect(opened.errors).toEqual([]);
    expect(opened.config).toEqual(config(TEXT));
  });

  it('leaves a sealed value posted back unchanged as it is', () => {
    const sealed = sealSecrets(TEXT, box);
    expect(sealSecrets(sealed, box)).toBe(sealed);
  });

  it('refuses a sealed value another key sealed, naming the field', () => {
    const other = sealSecrets(TEXT, new SecretBox(randomBytes(32)));
    expect(() => sealSecrets(other, box)).toThrow(/^global\.smtp_auth_password: .*cannot be opened/);
    const r = unsealSecrets(config(other), box);
    expect(r.config).toBeNull();
    expect(r.errors.map((e) => e.field)).toContain('receivers[0].webhook_configs[0].url');
  });
});

describe('mergeMaskedSecrets', () => {
  it('keeps the current values where the form sent <secret>, matching receivers by name', () => {
    const current = sealSecrets(TEXT, box);
    // A read-only view saved back with a reordered receiver list and one changed secret.
    const masked = maskSecrets(current);
    const [head, rest] = masked.split('receivers:\n');
    const [hooks, chat] = rest!.split(/(?=  - name: chat)/);
    const edited = `${head}receivers:\n${chat}${hooks}`.replace('routing_key: <secret>', 'routing_key: new-pd-key');
    const merged = mergeMaskedSecrets(edited, current);
    expect(merged).not.toContain('<secret>');
    const c = unsealSecrets(config(sealSecrets(merged, box)), box).config!;
    expect(c.receivers.map((r) => r.name)).toEqual(['chat', 'hooks']);
    expect(c.receivers[0]!.pagerdutyConfigs[0]!.routingKey).toBe('new-pd-key');
    expect(c.receivers[0]!.slackConfigs[0]!.apiUrl).toContain('slack-secret');
    expect(c.receivers[1]!.webhookConfigs[0]!.url).toContain('url-secret');
    expect(c.global.smtpAuthPassword).toBe('smtp-pass');
  });

  it('refuses <secret> where there is no current value', () => {
    const text = TEXT.replace('receivers:\n', 'receivers:\n  - name: new\n    webhook_configs:\n      - url: <secret>\n');
    expect(() => mergeMaskedSecrets(text, TEXT)).toThrow('receivers[0].webhook_configs[0].url: holds <secret> but there is no current value to keep');
  });
});
