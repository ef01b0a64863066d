/**
 * PagerDuty integration, Events API v2: one event per group, `trigger` while any alert fires and
 * `resolve` once all are resolved, with `dedup_key` the SHA-256 of the group key so PagerDuty folds
 * repeats (and retries) of the group into one incident.
 */
import { createHash } from 'node:crypto';
import { namedTemplate, postJson, renderTemplate, templateData, textAlertList, type DeliveryContext, type HttpAuth, type Integration, type Notification, authHeader } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** The Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A pagerduty_config as the integration needs it. */
export interface PagerDutyOptions {
  routingKey: string;
  url: string;
  sendResolved: boolean;
  severity?: string;
  description?: string;
  client?: string;
  clientUrl?: string;
  source?: string;
  class?: string;
  component?: string;
  group?: string;
  /** Extra custom details (templates); Alertmanager's firing/resolved/num_* defaults otherwise. */
  details?: Record<string, string>;
  auth?: HttpAuth;
}

/** The Events API v2 event. */
export interface PagerDutyEvent {
  routing_key: string;
  dedup_key: string;
  event_action: 'trigger' | 'resolve';
  payload: {
    summary: string;
    source: string;
    severity: string;
    class?: string;
    component?: string;
    group?: string;
    custom_details: Record<string, string>;
  };
  client: string;
  client_url: string;
}

/** The dedup key of a group: hex SHA-256 of its key, as Alertmanager computes it. */
export function pagerDutyDedupKey(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

// PagerDuty refuses summaries longer than this.
const MAX_SUMMARY = 1024;

/** Builds the event of a notification; pure. */
export function pagerDutyEvent(n: Notification, o: Omit<PagerDutyOptions, 'url' | 'sendResolved' | 'auth'>): PagerDutyEvent {
  const d = templateData(n);
  const firing = d.alerts.filter((a) => a.status === 'firing');
  const resolved = d.alerts.filter((a) => a.status === 'resolved');
  const details: Record<string, string> = {
    firing: textAlertList(firing),
    resolved: textAlertList(resolved),
    num_firing: String(firing.length),
    num_resolved: String(resolved.length),
  };
  for (const [k, v] of Object.entries(o.details ?? {})) details[k] = renderTemplate(v, d);
  let summary = o.description === undefined ? namedTemplate('pagerduty.default.description', d) : renderTemplate(o.description, d);
  if (summary.length > MAX_SUMMARY) summary = `${summary.slice(0, MAX_SUMMARY - 1)}…`;
  const client = o.client === undefined ? namedTemplate('pagerduty.default.client', d) : renderTemplate(o.client, d);
  const event: PagerDutyEvent = {
    routing_key: o.routingKey,
    dedup_key: pagerDutyDedupKey(n.groupKey),
    event_action: d.status === 'firing' ? 'trigger' : 'resolve',
    payload: {
      summary,
      source: o.source === undefined ? client : renderTemplate(o.source, d),
      severity: o.severity === undefined ? 'error' : renderTemplate(o.severity, d),
      custom_details: details,
    },
    client,
    client_url: o.clientUrl === undefined ? namedTemplate('pagerduty.default.clientURL', d) : renderTemplate(o.clientUrl, d),
  };
  if (o.class) event.payload.class = renderTemplate(o.class, d);
  if (o.component) event.payload.component = renderTemplate(o.component, d);
  if (o.group) event.payload.group = renderTemplate(o.group, d);
  return event;
}

/** Sends Events API v2 events. */
export class PagerDutyIntegration implements Integration {
  readonly type = 'pagerduty';

  constructor(
    readonly index: number,
    private readonly opts: PagerDutyOptions,
  ) {}

  get sendResolved(): boolean {
    return this.opts.sendResolved;
  }

  async notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult> {
    const auth = authHeader(this.opts.auth);
    const r = await postJson(this.opts.url, pagerDutyEvent(n, this.opts), auth ? { authorization: auth } : {}, ctx);
    // The routing key travels in the body; an error echoing the body must not show it.
    return r.error && this.opts.routingKey ? { ...r, error: r.error.split(this.opts.routingKey).join('<secret>') } : r;
  }
}
