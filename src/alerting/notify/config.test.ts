import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGERDUTY_URL,
  defaultNotificationConfig,
  formatConfigError,
  loadNotificationsFile,
  parseNotificationConfig,
  STARTER_NOTIFICATIONS_YAML,
  writeDefaultNotificationsOnce,
  type NotificationConfig,
} from './config.ts';
import { formatMatchers } from './matchers.ts';

function ok(text: string): NotificationConfig {
  const r = parseNotificationConfig(text);
  if (!r.config) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

function errors(text: string): string[] {
  const r = parseNotificationConfig(text);
  expect(r.config).toBeNull();
  return r.errors.map(formatConfigError);
}

const FULL = `global:
  resolve_timeout: 2m
  smtp_from: vigil@example.com
  smtp_smarthost: mail.example.com:587
  smtp_auth_username: vigil
  smtp_auth_password: hunter2
  slack_api_url: https://hooks.slack.com/services/T/B/X
  http_config:
    bearer_token: global-token
route:
  receiver: default
  group_by: [alertname, service_name]
  group_wait: 10s
  routes:
    - matchers: ['severity="critical"', 'system=~"rms|lms"']
      receiver: pager
      group_wait: 0s
      continue: true
      routes:
        - match: { team: db }
          receiver: chat
          group_by: ['...']
    - match_re: { service_name: 'rms-.*' }
      receiver: chat
      repeat_interval: 1h30m
      mute_time_intervals: [nights]
      active_time_intervals: [workdays]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
  - source_match: { alertname: Down }
    target_match_re: { alertname: '.+Latency' }
time_intervals:
  - name: workdays
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{ start_time: '08:00', end_time: '18:30' }]
        location: Europe/Berlin
mute_time_intervals:
  - name: nights
    time_intervals:
      - times: [{ start_time: '22:00', end_time: '24:00' }]
        days_of_month: ['1:5', '-3:-1', '15']
        months: ['january:march', '12']
        years: ['2026:2027']
receivers:
  - name: default
  - name: pager
    pagerduty_configs:
      - routing_key: abc123
        severity: critical
    webhook_configs:
      - url: http://127.0.0.1:9999/hook
        max_alerts: 5
        http_config:
          basic_auth: { username: u, password: p }
  - name: chat
    slack_configs:
      - channel: '#alerts'
        title: '{{ .CommonLabels.alertname }}'
    msteams_configs:
      - webhook_url: https://example.webhook.office.com/x
        send_resolved: false
    email_configs:
      - to: oncall@example.com
        headers: { subject: Alert, x-team: ops }
        send_resolved: true
`;

describe('parseNotificationConfig', () => {
  const c = ok(FULL);

  it('reads global settings with Alertmanager defaults for the rest', () => {
    expect(c.global).toMatchObject({ resolveTimeoutMs: 120_000, smtpHello: 'localhost', smtpRequireTls: true, pagerdutyUrl: DEFAULT_PAGERDUTY_URL });
  });

  it('resolves the route tree: children inherit receiver, group_by and timings, not matchers or time intervals', () => {
    const root = c.route;
    expect(root).toMatchObject({ receiver: 'default', groupBy: ['alertname', 'service_name'], groupWaitMs: 10_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000, id: '{}', key: '{}' });
    const [pager, chat] = root.routes;
    expect(pager).toMatchObject({ receiver: 'pager', groupBy: ['alertname', 'service_name'], groupWaitMs: 0, groupIntervalMs: 300_000, continue: true, muteTimeIntervals: [] });
    // Matchers are sorted by name as Alertmanager sorts them; the id adds the sibling index.
    expect(formatMatchers(pager!.matchers)).toBe('{severity="critical",system=~"rms|lms"}');
    expect(pager!.key).toBe('{}/{severity="critical",system=~"rms|lms"}');
    expect(pager!.id).toBe('{}/{severity="critical",system=~"rms|lms"}/0');
    const db = pager!.routes[0]!;
    expect(db).toMatchObject({ receiver: 'chat', groupByAll: true, groupBy: [], groupWaitMs: 0, continue: false });
    expect(db.id).toBe('{}/{severity="critical",system=~"rms|lms"}/0/{team="db"}/0');
    expect(chat).toMatchObject({ receiver: 'chat', groupWaitMs: 10_000, repeatIntervalMs: 5_400_000, muteTimeIntervals: ['nights'], activeTimeIntervals: ['workdays'] });
    expect(formatMatchers(chat!.matchers)).toBe('{service_name=~"rms-.*"}');
    expect(chat!.id).toBe('{}/{service_name=~"rms-.*"}/1');
  });

  it('reads inhibit rules, old and new matcher styles', () => {
    expect(c.inhibitRules.map((r) => [formatMatchers(r.sourceMatchers), formatMatchers(r.targetMatchers), r.equal])).toEqual([
      ['{severity="critical"}', '{severity="warning"}', ['alertname']],
      ['{alertname="Down"}', '{alertname=~".+Latency"}', []],
    ]);
  });

  it('reads time intervals from both sections', () => {
    expect(c.timeIntervals.get('workdays')).toEqual([{ weekdays: [{ begin: 1, end: 5 }], times: [{ startMinute: 480, endMinute: 1110 }], location: 'Europe/Berlin' }]);
    expect(c.timeIntervals.get('nights')).toEqual([
      {
        times: [{ startMinute: 1320, endMinute: 1440 }],
        daysOfMonth: [{ begin: 1, end: 5 }, { begin: -3, end: -1 }, { begin: 15, end: 15 }],
        months: [{ begin: 1, end: 3 }, { begin: 12, end: 12 }],
        years: [{ begin: 2026, end: 2027 }],
      },
    ]);
  });

  it('fills integrations from their own fields, the global section and Alertmanager defaults', () => {
    const [, pager, chat] = c.receivers;
    expect(pager!.pagerdutyConfigs).toEqual([{ routingKey: 'abc123', url: DEFAULT_PAGERDUTY_URL, sendResolved: true, severity: 'critical', httpConfig: { bearerToken: 'global-token', followRedirects: true } }]);
    expect(pager!.webhookConfigs).toEqual([{ url: 'http://127.0.0.1:9999/hook', sendResolved: true, maxAlerts: 5, httpConfig: { basicAuth: { username: 'u', password: 'p' }, followRedirects: true } }]);
    expect(chat!.slackConfigs[0]).toMatchObject({ apiUrl: 'https://hooks.slack.com/services/T/B/X', sendResolved: false, channel: '#alerts', title: '{{ .CommonLabels.alertname }}' });
    expect(chat!.msteamsConfigs[0]).toMatchObject({ webhookUrl: 'https://example.webhook.office.com/x', sendResolved: false });
    expect(chat!.emailConfigs[0]).toEqual({
      to: 'oncall@example.com',
      from: 'vigil@example.com',
      smarthost: 'mail.example.com:587',
      hello: 'localhost',
      authUsername: 'vigil',
      authPassword: 'hunter2',
      requireTls: true,
      sendResolved: true,
      headers: { Subject: 'Alert', 'X-Team': 'ops' },
    });
  });

});

describe('configuration errors name file, line and field', () => {
  it('an undefined receiver in a nested route', () => {
    const text = ['route:', '  receiver: default', '  routes:', '    - matchers: [severity="critical"]', '      receiver: pager', 'receivers:', '  - name: default', ''].join('\n');
    expect(errors(text)).toEqual(['alertmanager.yml:5: route.routes[0].receiver: receiver "pager" is not defined']);
  });

  it.each([
    ['unknown keys', 'route:\n  receiver: a\n  recevier: b\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.recevier: unknown field "recevier"'],
    ['unknown top-level keys', 'foo: 1\nroute: {receiver: a}\nreceivers: [{name: a}]\n', 'alertmanager.yml:1: foo: unknown field "foo"'],
    ['unsupported integrations', 'route: {receiver: a}\nreceivers:\n  - name: a\n    opsgenie_configs: [{api_key: x}]\n', `alertmanager.yml:4: receivers[0].opsgenie_configs: Alertmanager's "opsgenie_configs" is not supported by Vigil`],
    ['url_file', 'route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url_file: /x\n', `alertmanager.yml:5: receivers[0].webhook_configs[0].url_file: Alertmanager's "url_file" is not supported by Vigil`],
    ['a missing root receiver', 'route:\n  group_by: [a]\nreceivers: [{name: a}]\n', 'alertmanager.yml:1: route.receiver: root route must specify a default receiver'],
    ['root matchers', 'route:\n  receiver: a\n  matchers: [x="y"]\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.matchers: root route must not have any matchers'],
    ['root mute intervals', 'route:\n  receiver: a\n  mute_time_intervals: [t]\nreceivers: [{name: a}]\ntime_intervals: [{name: t, time_intervals: []}]\n', 'alertmanager.yml:3: route.mute_time_intervals: root route must not have any mute time intervals'],
    ['no route', 'receivers: [{name: a}]\n', 'alertmanager.yml:1: route: route is required (the root route and its default receiver)'],
    ['duplicate receivers', 'route: {receiver: a}\nreceivers:\n  - name: a\n  - name: a\n', 'alertmanager.yml:4: receivers[1].name: receiver name "a" is not unique'],
    ['an undefined time interval', 'route:\n  receiver: a\n  routes:\n    - receiver: a\n      active_time_intervals: [office]\nreceivers: [{name: a}]\n', 'alertmanager.yml:5: route.routes[0].active_time_intervals[0]: time interval "office" is not defined'],
    ['a bad matcher', 'route:\n  receiver: a\n  routes:\n    - receiver: a\n      matchers: ["severity=~\\"(\\""]\nreceivers: [{name: a}]\n', 'alertmanager.yml:5: route.routes[0].matchers[0]: invalid regex'],
    ['a bad duration', 'route:\n  receiver: a\n  group_wait: 10 seconds\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.group_wait: invalid duration "10 seconds"'],
    ['group_interval 0', 'route:\n  receiver: a\n  group_interval: 0s\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.group_interval: group_interval cannot be zero'],
    ['wildcard and labels', "route:\n  receiver: a\n  group_by: ['...', alertname]\nreceivers: [{name: a}]\n", "alertmanager.yml:3: route.group_by: cannot have wildcard group_by ('...') and other labels at the same time"],
    ['duplicate group_by', 'route:\n  receiver: a\n  group_by: [a, a]\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.group_by[1]: duplicated label "a" in group_by'],
    ['bad label names', 'route:\n  receiver: a\n  group_by: [service.name]\nreceivers: [{name: a}]\n', 'alertmanager.yml:3: route.group_by[0]: invalid label name "service.name"'],
    ['a slack config without URL', 'route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs:\n      - channel: x\n', 'alertmanager.yml:5: receivers[0].slack_configs[0].api_url: api_url is required (or set global.slack_api_url)'],
    ['an email without smarthost', 'global: {smtp_from: a@b.c}\nroute: {receiver: a}\nreceivers:\n  - name: a\n    email_configs:\n      - to: x@y.z\n', 'alertmanager.yml:6: receivers[0].email_configs[0].smarthost: smarthost is required (or set global.smtp_smarthost)'],
    ['pagerduty without key', 'route: {receiver: a}\nreceivers:\n  - name: a\n    pagerduty_configs:\n      - severity: x\n', 'alertmanager.yml:5: receivers[0].pagerduty_configs[0]: missing service or routing key in PagerDuty config'],
    ['a non-http URL', 'route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: file:///etc/passwd\n', 'alertmanager.yml:5: receivers[0].webhook_configs[0].url: unsupported scheme "file" for URL (expected http or https)'],
    ['two auth methods', 'route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        http_config: {bearer_token: t, basic_auth: {username: u}}\n', 'alertmanager.yml:6: receivers[0].webhook_configs[0].http_config: at most one of bearer_token, basic_auth may be set'],
    ['a start after the end', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - times: [{start_time: '18:00', end_time: '08:00'}]\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].times[0]: start_time cannot be equal to or later than end_time'],
    ['a bad clock time', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - times: [{start_time: '8:00', end_time: '24:01'}]\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].times[0].start_time: invalid time "8:00"'],
    ['a bad weekday range', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - weekdays: ['friday:monday']\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].weekdays[0]: start day cannot be after end day'],
    ['a negative start with positive end', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - days_of_month: ['-3:5']\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].days_of_month[0]: end day must be negative if start day is negative'],
    ['day 0', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - days_of_month: ['0']\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].days_of_month[0]: invalid day of month "0"'],
    ['a month name', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - months: ['smarch']\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].months[0]: invalid month "smarch"'],
    ['an unknown zone', "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - location: Mars/Olympus\n", 'alertmanager.yml:6: time_intervals[0].time_intervals[0].location: unknown time zone "Mars/Olympus"'],
    ['duplicate time intervals', 'route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals: [{name: t}]\nmute_time_intervals:\n  - name: t\n', 'alertmanager.yml:3: time_intervals[0].name: time interval "t" is not unique'],
    ['YAML syntax', 'route:\n  receiver: [a\n', 'alertmanager.yml:3:'],
    ['templates', "templates: ['/etc/am/*.tmpl']\nroute: {receiver: a}\nreceivers: [{name: a}]\n", `alertmanager.yml:1: templates: Alertmanager's "templates" is not supported by Vigil`],
  ])('%s', (_, text, want) => {
    const got = errors(text);
    expect(got.some((e) => e.startsWith(want)), `${got.join('\n')}\n— expected one starting with —\n${want}`).toBe(true);
  });

  it('reports every error of a file, in line order', () => {
    const got = errors('route:\n  receiver: nope\n  group_wait: x\nreceivers:\n  - name: a\n    slack_configs: [{}]\n');
    expect(got.map((e) => Number(e.split(':')[1]))).toEqual([2, 3, 6]);
  });
});

describe('defaults and the starter file', () => {
  it('uses one receiver without integrations and Alertmanager timings when the file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-am-'));
    try {
      const r = loadNotificationsFile(join(dir, 'alertmanager.yml'));
      expect(r.config).toEqual(defaultNotificationConfig());
      expect(r.config!.route).toMatchObject({ receiver: 'default', groupBy: ['alertname'], groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000 });
      expect(r.config!.receivers).toMatchObject([{ name: 'default', webhookConfigs: [], slackConfigs: [], emailConfigs: [] }]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('writes a starter file once (group_wait 10s) and never overwrites an edited one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-am-'));
    const path = join(dir, 'alertmanager.yml');
    try {
      expect(writeDefaultNotificationsOnce(path)).toBe(true);
      expect(ok(readFileSync(path, 'utf8')).route.groupWaitMs).toBe(10_000);
      writeFileSync(path, 'route: {receiver: x}\nreceivers: [{name: x}]\n');
      expect(writeDefaultNotificationsOnce(path)).toBe(false);
      expect(loadNotificationsFile(path).config!.route.receiver).toBe('x');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('has a commented example of every receiver type that parses when uncommented', () => {
    for (const type of ['webhook_configs', 'slack_configs', 'msteams_configs', 'email_configs', 'pagerduty_configs']) expect(STARTER_NOTIFICATIONS_YAML).toContain(`#   ${type}:`);
    // Uncommenting every example (keeping the prose comments out) must give a valid configuration.
    const uncommented = STARTER_NOTIFICATIONS_YAML.split('\n')
      .filter((l) => !/^# [A-Z(]/.test(l) && !/^#\s*$/.test(l) && !/^\s*# +#/.test(l))
      .map((l) => l.replace(/^( *)# /, '$1'))
      .join('\n');
    const c = ok(uncommented);
    expect(c.receivers.map((r) => r.name)).toEqual(['default', 'oncall', 'team-chat']);
    expect(c.route.routes).toHaveLength(2);
    expect(c.inhibitRules).toHaveLength(1);
    expect([...c.timeIntervals.keys()]).toEqual(['nights', 'weekends']);
  });
});
