/**
 * The notification configuration in Alertmanager's format (`alertmanager.yml`): global settings, the
 * route tree, inhibit rules, time intervals and receivers. Parsed from text into resolved types — every
 * route carries the fields it inherits, every integration the global defaults it falls back on — with
 * errors that name the file, the line and the field.
 */
import type { Matcher } from './matchers.ts';

/** A problem in the notifications file: `file:line: field: message` (the API's AlertingFileError). */
export interface ConfigError {
  file: string;
  line: number | null;
  field: string | null;
  message: string;
}

/**
 * An `http_config` (the subset Vigil honours): at most one of `authorization`, `bearer_token`,
 * `basic_auth`. Structurally the integrations' `HttpAuth`.
 */
export interface HttpConfig {
  authorization?: { type?: string; credentials?: string };
  bearerToken?: string;
  basicAuth?: { username: string; password?: string };
  /** `follow_redirects` (default true). */
  followRedirects: boolean;
}

/** The `global` section, defaults applied. */
export interface GlobalConfig {
  /** How long an alert without an end time counts as firing after its last update (default 5m). */
  resolveTimeoutMs: number;
  smtpFrom?: string;
  /** `host:port`. */
  smtpSmarthost?: string;
  /** The name sent in EHLO (default `localhost`). */
  smtpHello: string;
  smtpAuthUsername?: string;
  smtpAuthPassword?: string;
  /** Default true. */
  smtpRequireTls: boolean;
  slackApiUrl?: string;
  /** Default https://events.pagerduty.com/v2/enqueue. */
  pagerdutyUrl: string;
  httpConfig?: HttpConfig;
}

/** A `webhook_configs` entry. */
export interface WebhookConfig {
  url: string;
  /** Default true. */
  sendResolved: boolean;
  /** 0: all alerts. */
  maxAlerts: number;
  /** The integration's `http_config`, else the global one. */
  httpConfig?: HttpConfig;
}

/** A `slack_configs` entry (`api_url` falls back to `global.slack_api_url`). */
export interface SlackConfig {
  apiUrl: string;
  /** Default false. */
  sendResolved: boolean;
  channel?: string;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
  title?: string;
  titleLink?: string;
  pretext?: string;
  text?: string;
  fallback?: string;
  color?: string;
  footer?: string;
  httpConfig?: HttpConfig;
}

/** A `msteams_configs` entry. */
export interface MsTeamsConfig {
  webhookUrl: string;
  /** Default true. */
  sendResolved: boolean;
  title?: string;
  summary?: string;
  text?: string;
  httpConfig?: HttpConfig;
}

/** An `email_configs` entry, global `smtp_*` defaults applied. */
export interface EmailConfig {
  to: string;
  from: string;
  /** `host:port`. */
  smarthost: string;
  hello: string;
  authUsername?: string;
  authPassword?: string;
  requireTls: boolean;
  /** Header names in canonical form (`Subject`, `X-Team`). */
  headers?: Record<string, string>;
  html?: string;
  text?: string;
  /** `tls_config.insecure_skip_verify`. */
  insecureSkipVerify?: boolean;
  /** Default false. */
  sendResolved: boolean;
}

/** A `pagerduty_configs` entry: `routing_key` (Events API v2) or `service_key` (the older integration key). */
export interface PagerDutyConfig {
  routingKey?: string;
  serviceKey?: string;
  /** Default `global.pagerduty_url` (https://events.pagerduty.com/v2/enqueue). */
  url: string;
  /** Default true. */
  sendResolved: boolean;
  /** Default `error`. */
  severity: string;
  description?: string;
  client?: string;
  clientUrl?: string;
  source?: string;
  class?: string;
  component?: string;
  group?: string;
  details?: Record<string, string>;
  httpConfig?: HttpConfig;
}

/** A receiver and its integrations. */
export interface Receiver {
  name: string;
  webhookConfigs: WebhookConfig[];
  slackConfigs: SlackConfig[];
  msteamsConfigs: MsTeamsConfig[];
  emailConfigs: EmailConfig[];
  pagerdutyConfigs: PagerDutyConfig[];
  /** Line of the receiver in the file. */
  line: number | null;
}

/**
 * A route of the resolved tree: unset fields inherited from the parent as Alertmanager's `NewRoute`
 * does (receiver, group_by, group_wait, group_interval, repeat_interval); matchers, `continue` and the
 * time intervals are the route's own.
 */
export interface Route {
  /** Alertmanager's `Route.ID()`: the matcher path plus the index among siblings — stable across reloads. */
  id: string;
  /** Alertmanager's `Route.Key()`: the matcher path, the prefix of the route's group keys. */
  key: string;
  receiver: string;
  /** Label names alerts are grouped by (sorted); empty with `groupByAll`. */
  groupBy: string[];
  /** `group_by: ['...']`: every label. */
  groupByAll: boolean;
  /** The route's own matchers (new style, `match` and `match_re` together), in Alertmanager's order. */
  matchers: Matcher[];
  continue: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Names of time intervals during which notifications are muted. */
  muteTimeIntervals: string[];
  /** Names of time intervals outside which notifications are muted (empty: always active). */
  activeTimeIntervals: string[];
  routes: Route[];
  line: number | null;
}

/** An inhibit rule: a firing source alert mutes target alerts that agree on `equal`. */
export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
  line: number | null;
}

/** Minutes of the day `[startMinute, endMinute)`; `end_time: 24:00` is 1440. */
export interface TimeRange {
  startMinute: number;
  endMinute: number;
}

/** An inclusive range of weekdays (0 = Sunday), days of month (negative: from the end), months (1-12) or years. */
export interface InclusiveRange {
  begin: number;
  end: number;
}

/** One time interval (Alertmanager's `timeinterval.TimeInterval`): matches when every field given matches. */
export interface TimeInterval {
  times?: TimeRange[];
  weekdays?: InclusiveRange[];
  daysOfMonth?: InclusiveRange[];
  months?: InclusiveRange[];
  years?: InclusiveRange[];
  /** IANA zone the fields are read in (default UTC). */
  location?: string;
}

/** The whole configuration. */
export interface NotificationConfig {
  global: GlobalConfig;
  route: Route;
  inhibitRules: InhibitRule[];
  /** Named time intervals (`time_intervals` and the deprecated top-level `mute_time_intervals`). */
  timeIntervals: Map<string, TimeInterval[]>;
  receivers: Receiver[];
}

/** What parsing yields: a configuration, or the errors that refused it. */
export type ParseResult = { config: NotificationConfig; errors: [] } | { config: null; errors: ConfigError[] };

/** Alertmanager's route defaults. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000;
/** Alertmanager's default PagerDuty Events API v2 endpoint. */
export const DEFAULT_PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';
