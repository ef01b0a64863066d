/**
 * The integrations of each receiver, built from the notification configuration: one object per
 * configured `*_configs` entry, indexed per type as Alertmanager indexes them (the index is part of
 * the notification log key, so reordering a receiver's webhooks re-notifies, as in Alertmanager).
 */
import type { NotificationConfig, Receiver } from '../config.ts';
import type { Integration } from './common.ts';
import { EmailIntegration } from './email.ts';
import { MsTeamsIntegration } from './msteams.ts';
import { PAGERDUTY_V1_URL, PagerDutyIntegration } from './pagerduty.ts';
import { DEFAULT_PAGERDUTY_URL } from '../config.ts';
import { SlackIntegration } from './slack.ts';
import { WebhookIntegration } from './webhook.ts';

export type { Integration, Notification, DeliveryContext } from './common.ts';

/** The integrations of one receiver. */
export function receiverIntegrations(r: Receiver, global?: NotificationConfig['global']): Integration[] {
  const auth = <T extends { httpConfig?: NotificationConfig['global']['httpConfig'] }>(c: T) => c.httpConfig ?? global?.httpConfig;
  return [
    ...r.webhookConfigs.map((c, i) => new WebhookIntegration(i, { url: c.url, sendResolved: c.sendResolved, maxAlerts: c.maxAlerts, auth: auth(c) })),
    ...r.slackConfigs.map((c, i) => new SlackIntegration(i, { ...c, auth: auth(c) })),
    ...r.msteamsConfigs.map((c, i) => new MsTeamsIntegration(i, { ...c, auth: auth(c) })),
    ...r.emailConfigs.map((c, i) => new EmailIntegration(i, c)),
    ...r.pagerdutyConfigs.map((c, i) => {
      // A service key alone speaks the v1 API; its endpoint differs when the url was left at the default.
      const v1 = !c.routingKey && !!c.serviceKey;
      const url = v1 && c.url === DEFAULT_PAGERDUTY_URL ? PAGERDUTY_V1_URL : c.url;
      return new PagerDutyIntegration(i, { ...c, url, auth: auth(c) });
    }),
  ];
}

/** The integrations of every receiver of a configuration, by receiver name. */
export function buildReceivers(config: NotificationConfig): Map<string, Integration[]> {
  return new Map(config.receivers.map((r) => [r.name, receiverIntegrations(r, config.global)]));
}
