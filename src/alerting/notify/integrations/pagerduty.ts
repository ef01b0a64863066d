/**
 * PagerDuty integration, Events API v2: one event per group, `trigger` while any alert fires and
 * `resolve` once all are resolved, with `dedup_key` the SHA-256 of the group key so PagerDuty folds
 * repeats (and retries) of the group into one incident.
 */
import type { PagerDutyConfig } from '../config.ts';
import { createHash } from 'node:crypto';
import { namedTemplate, postJson, renderTemplate, templateData, textAlertList, type DeliveryContext, type HttpAuth, type Integration, type Notification, authHeader, redirectsAllowed } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** The Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A pagerduty_config as the integration needs it: `routingKey` (Events API v2) or `serviceKey` (v1). */
export type PagerDutyOptions = Omit<PagerDutyConfig, 'httpConfig' | 'severity'> & { severity?: string; auth?: HttpAuth };

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
export function pagerDutyEvent(n: Notification, o: Omit<PagerDutyOptions, 'url' | 'sendResolved' | 'auth' | 'serviceKey'>): PagerDutyEvent {
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
    routing_key: o.routingKey ?? '',
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

/** The older Events API (v1) event, for a `service_key`. */
export interface PagerDutyV1Event {
  service_key: string;
  event_type: 'trigger' | 'resolve';
  incident_key: string;
  description: string;
  client: string;
  client_url: string;
  details: Record<string, string>;
}

/** The v1 endpoint a `service_key` posts to when no url is set. */
export const PAGERDUTY_V1_URL = 'https://events.pagerduty.com/generic/2010-04-15/create_event.json';

/** Builds the v1 event of a notification; pure. */
export function pagerDutyV1Event(n: Notification, o: Omit<PagerDutyOptions, 'url' | 'sendResolved' | 'auth' | 'routingKey'> & { serviceKey: string }): PagerDutyV1Event {
  const v2 = pagerDutyEvent(n, { ...o, routingKey: '' });
  return {
    service_key: o.serviceKey,
    event_type: v2.event_action,
    incident_key: v2.dedup_key,
    description: v2.payload.summary,
    client: v2.client,
    client_url: v2.client_url,
    details: v2.payload.custom_details,
  };
}

/** Sends Events API v2 events (v1 for a service key). */
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
    const body = this.opts.routingKey || !this.opts.serviceKey ? pagerDutyEvent(n, this.opts) : pagerDutyV1Event(n, { ...this.opts, serviceKey: this.opts.serviceKey });
    const r = await postJson(this.opts.url, body, auth ? { authorization: auth } : {}, ctx, redirectsAllowed(this.opts.auth));
    // The key travels in the body; an error echoing the body must not show it.
    const key = this.opts.routingKey || this.opts.serviceKey;
    return r.error && key ? { ...r, error: r.error.split(key).join('<secret>') } : r;
  }
}
