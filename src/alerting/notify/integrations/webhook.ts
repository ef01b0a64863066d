/**
 * Webhook integration: POSTs exactly Alertmanager's webhook JSON (version "4") with `max_alerts`
 * truncation, the `http_config` authentication, and an `Idempotency-Key` header that stays the same
 * across retries of one notification.
 */
import type { WebhookConfig } from '../config.ts';
import { authHeader, postJson, redirectsAllowed, templateData, type DeliveryContext, type HttpAuth, type Integration, type Notification, type TemplateData } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** A webhook_config as the integration needs it. */
export type WebhookOptions = Omit<WebhookConfig, 'httpConfig'> & { auth?: HttpAuth };

/** Alertmanager's webhook message (template data, then version, group key and truncated count). */
export interface WebhookMessage extends TemplateData {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
}

/** Builds the webhook message of a notification; pure. */
export function webhookMessage(n: Notification, maxAlerts: number): WebhookMessage {
  // Truncation happens before the template data is computed, as in Alertmanager: common labels are
  // those of the alerts sent.
  const truncated = maxAlerts > 0 && n.alerts.length > maxAlerts ? n.alerts.length - maxAlerts : 0;
  const data = templateData(truncated ? { ...n, alerts: n.alerts.slice(0, maxAlerts) } : n);
  return { ...data, version: '4', groupKey: n.groupKey, truncatedAlerts: truncated };
}

/** Sends Alertmanager's webhook JSON. */
export class WebhookIntegration implements Integration {
  readonly type = 'webhook';

  constructor(
    readonly index: number,
    private readonly opts: WebhookOptions,
  ) {}

  get sendResolved(): boolean {
    return this.opts.sendResolved;
  }

  async notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult> {
    const headers: Record<string, string> = { 'idempotency-key': ctx.idempotencyKey };
    const auth = authHeader(this.opts.auth);
    if (auth) headers.authorization = auth;
    return postJson(this.opts.url, webhookMessage(n, this.opts.maxAlerts), headers, ctx, redirectsAllowed(this.opts.auth));
  }
}
