/**
 * The notification configuration in Alertmanager's format (`alertmanager.yml`): global settings, the
 * route tree, inhibit rules, time intervals and receivers. Parsed from text into resolved types — every
 * route carries the fields it inherits, every integration the global defaults it falls back on — with
 * errors that name the file, the line and the field.
 */
import { parsePromDuration } from '../duration.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { SEALED_PREFIX } from './secrets.ts';
import { compareMatchers, formatMatchers, newMatcher, parseMatchers, type Matcher } from './matchers.ts';

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

// ---- parsing --------------------------------------------------------------------------------------

type Path = (string | number)[];
type Obj = Record<string, unknown>;

// Sealed secrets (secrets.ts) skip format checks here; unsealSecrets checks them once opened.
const SEALED = SEALED_PREFIX;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A Prometheus duration in milliseconds, or null when the text is not one (the reader names the field). */
function promDurationOrNull(text: string): number | null {
  try {
    return parsePromDuration(text);
  } catch {
    return null;
  }
}

/** Formats a path as `route.routes[0].receiver`. */
function fieldPath(path: Path): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Reads the plain JS tree of a YAML document, recording errors with the line of the field in question. */
class Reader {
  readonly errors: ConfigError[] = [];

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lc: LineCounter,
  ) {}

  /** The line of `path`: its key when the last step is a mapping key, else the deepest node that exists. */
  line(path: Path): number | null {
    for (let n = path.length; n > 0; n--) {
      const parent = this.doc.getIn(path.slice(0, n - 1), true);
      const last = path[n - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const key = pair?.key as { range?: [number, number, number] } | undefined;
        if (key?.range) return this.lc.linePos(key.range[0]).line;
        // A missing key: the loop goes on to the key that holds the mapping.
      } else if (isSeq(parent)) {
        const item = parent.items[last as number] as { range?: [number, number, number] } | undefined;
        if (item?.range) return this.lc.linePos(item.range[0]).line;
      }
    }
    const root = this.doc.contents as { range?: [number, number, number] } | null;
    return root?.range ? this.lc.linePos(root.range[0]).line : null;
  }

  error(path: Path, message: string): void {
    this.errors.push({ file: this.file, line: this.line(path), field: fieldPath(path), message });
  }

  /** A mapping (null/absent: empty), with unknown keys and unsupported Alertmanager keys reported. */
  map(path: Path, v: unknown, known: readonly string[], unsupported: readonly string[] = []): Obj | null {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.error(path, 'expected a mapping');
      return null;
    }
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      if (known.includes(k)) continue;
      if (unsupported.includes(k)) this.error([...path, k], `Alertmanager's "${k}" is not supported by Vigil`);
      else this.error([...path, k], `unknown field "${k}"`);
    }
    return o;
  }

  /** A string; YAML numbers and booleans are taken as their text, as Alertmanager's YAML decoder does. */
  str(path: Path, v: unknown): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.error(path, 'expected a string');
    return undefined;
  }

  /** An http(s) URL (a sealed secret is taken as it is). */
  url(path: Path, v: unknown): string | undefined {
    const s = this.str(path, v);
    if (s === undefined || s.startsWith(SEALED)) return s;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      this.error(path, `invalid URL "${s}"`);
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.error(path, `unsupported scheme "${u.protocol.slice(0, -1)}" for URL (expected http or https)`);
      return undefined;
    }
    return s;
  }

  bool(path: Path, v: unknown, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    this.error(path, 'expected true or false');
    return dflt;
  }

  uint(path: Path, v: unknown, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    this.error(path, 'expected a non-negative integer');
    return dflt;
  }

  duration(path: Path, v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    const s = typeof v === 'number' && v === 0 ? '0' : typeof v === 'string' ? v.trim() : null;
    const ms = s === null ? null : promDurationOrNull(s);
    if (ms === null) this.error(path, `invalid duration ${JSON.stringify(v)}: use Prometheus durations such as 30s, 5m, 1h30m, 2d`);
    return ms ?? undefined;
  }

  list(path: Path, v: unknown): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.error(path, 'expected a list');
      return [];
    }
    return v;
  }

  strList(path: Path, v: unknown): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    const out: string[] = [];
    this.list(path, v).forEach((x, i) => {
      const s = this.str([...path, i], x);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  strMap(path: Path, v: unknown): Record<string, string> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.error(path, 'expected a mapping of names to strings');
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Obj)) {
      const s = this.str([...path, k], x);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }

  labelName(path: Path, name: string): boolean {
    if (LABEL_NAME.test(name)) return true;
    this.error(path, `invalid label name "${name}"`);
    return false;
  }

  /** `matchers:` — a list of matcher strings, each of which may hold several (`a="b", c=~"d"`). */
  matchers(path: Path, v: unknown): Matcher[] {
    const out: Matcher[] = [];
    (this.strList(path, v) ?? []).forEach((line, i) => {
      try {
        out.push(...parseMatchers(line));
      } catch (err) {
        this.error([...path, i], (err as Error).message);
      }
    });
    return out;
  }

  /** Deprecated `match:` / `match_re:` maps of label name to value or regex. */
  matchMap(path: Path, v: unknown, type: '=' | '=~'): Matcher[] {
    const out: Matcher[] = [];
    for (const [name, value] of Object.entries(this.strMap(path, v) ?? {})) {
      if (!this.labelName([...path, name], name)) continue;
      try {
        out.push(newMatcher(type, name, value));
      } catch (err) {
        this.error([...path, name], (err as Error).message);
      }
    }
    return out;
  }
}

const HTTP_CONFIG_KEYS = ['authorization', 'bearer_token', 'basic_auth', 'follow_redirects', 'enable_http2'];
const HTTP_CONFIG_UNSUPPORTED = ['bearer_token_file', 'oauth2', 'proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header', 'tls_config'];

function parseHttpConfig(r: Reader, path: Path, v: unknown): HttpConfig | undefined {
  if (v === undefined || v === null) return undefined;
  const o = r.map(path, v, HTTP_CONFIG_KEYS, HTTP_CONFIG_UNSUPPORTED);
  if (!o) return undefined;
  const out: HttpConfig = { followRedirects: r.bool([...path, 'follow_redirects'], o.follow_redirects, true) };
  r.bool([...path, 'enable_http2'], o.enable_http2, true);
  if (o.authorization !== undefined && o.authorization !== null) {
    const a = r.map([...path, 'authorization'], o.authorization, ['type', 'credentials'], ['credentials_file']);
    if (a) {
      const type = r.str([...path, 'authorization', 'type'], a.type);
      if (type !== undefined && type.toLowerCase() === 'basic') r.error([...path, 'authorization', 'type'], 'authorization type cannot be set to "basic", use "basic_auth" instead');
      out.authorization = { type: type ?? 'Bearer', credentials: r.str([...path, 'authorization', 'credentials'], a.credentials) };
    }
  }
  const bearer = r.str([...path, 'bearer_token'], o.bearer_token);
  if (bearer !== undefined) out.bearerToken = bearer;
  if (o.basic_auth !== undefined && o.basic_auth !== null) {
    const b = r.map([...path, 'basic_auth'], o.basic_auth, ['username', 'password'], ['username_file', 'password_file']);
    if (b) out.basicAuth = { username: r.str([...path, 'basic_auth', 'username'], b.username) ?? '', password: r.str([...path, 'basic_auth', 'password'], b.password) };
  }
  const set = [out.authorization && 'authorization', out.bearerToken !== undefined && 'bearer_token', out.basicAuth && 'basic_auth'].filter(Boolean);
  if (set.length > 1) r.error(path, `at most one of ${set.join(', ')} may be set`);
  return out;
}

function parseGlobal(r: Reader, v: unknown): GlobalConfig {
  const path = ['global'];
  const o =
    r.map(path, v, ['resolve_timeout', 'smtp_from', 'smtp_smarthost', 'smtp_hello', 'smtp_auth_username', 'smtp_auth_password', 'smtp_require_tls', 'slack_api_url', 'pagerduty_url', 'http_config'], [
      'smtp_auth_password_file',
      'smtp_auth_secret',
      'smtp_auth_identity',
      'smtp_tls_config',
      'slack_api_url_file',
      'opsgenie_api_url',
      'opsgenie_api_key',
      'opsgenie_api_key_file',
      'wechat_api_url',
      'wechat_api_secret',
      'wechat_api_corp_id',
      'victorops_api_url',
      'victorops_api_key',
      'victorops_api_key_file',
      'telegram_api_url',
      'webex_api_url',
    ]) ?? {};
  const g: GlobalConfig = {
    resolveTimeoutMs: r.duration([...path, 'resolve_timeout'], o.resolve_timeout) ?? 5 * 60_000,
    smtpHello: r.str([...path, 'smtp_hello'], o.smtp_hello) ?? 'localhost',
    smtpRequireTls: r.bool([...path, 'smtp_require_tls'], o.smtp_require_tls, true),
    pagerdutyUrl: r.url([...path, 'pagerduty_url'], o.pagerduty_url) ?? DEFAULT_PAGERDUTY_URL,
  };
  if (g.resolveTimeoutMs === 0) r.error([...path, 'resolve_timeout'], 'resolve_timeout cannot be zero');
  const from = r.str([...path, 'smtp_from'], o.smtp_from);
  if (from !== undefined) g.smtpFrom = from;
  const smarthost = smarthostOf(r, [...path, 'smtp_smarthost'], o.smtp_smarthost);
  if (smarthost !== undefined) g.smtpSmarthost = smarthost;
  const user = r.str([...path, 'smtp_auth_username'], o.smtp_auth_username);
  if (user !== undefined) g.smtpAuthUsername = user;
  const pass = r.str([...path, 'smtp_auth_password'], o.smtp_auth_password);
  if (pass !== undefined) g.smtpAuthPassword = pass;
  const slack = r.url([...path, 'slack_api_url'], o.slack_api_url);
  if (slack !== undefined) g.slackApiUrl = slack;
  const http = parseHttpConfig(r, [...path, 'http_config'], o.http_config);
  if (http) g.httpConfig = http;
  return g;
}

/** A `host:port` address (Alertmanager's HostPort). */
function smarthostOf(r: Reader, path: Path, v: unknown): string | undefined {
  const s = r.str(path, v);
  if (s === undefined || s === '') return undefined;
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.test(s)) {
    r.error(path, `address "${s}": expected host:port`);
    return undefined;
  }
  return s;
}

const NOTIFIER_UNSUPPORTED = [
  'discord_configs',
  'jira_configs',
  'msteamsv2_configs',
  'opsgenie_configs',
  'pushover_configs',
  'rocketchat_configs',
  'sns_configs',
  'telegram_configs',
  'victorops_configs',
  'webex_configs',
  'wechat_configs',
];

function parseWebhook(r: Reader, path: Path, v: unknown, g: GlobalConfig): WebhookConfig | null {
  const o = r.map(path, v, ['url', 'send_resolved', 'max_alerts', 'http_config'], ['url_file', 'timeout']);
  if (!o) return null;
  const url = r.url([...path, 'url'], o.url);
  if (!url) {
    if (o.url === undefined || o.url === null) r.error([...path, 'url'], 'url is required');
    return null;
  }
  return {
    url,
    sendResolved: r.bool([...path, 'send_resolved'], o.send_resolved, true),
    maxAlerts: r.uint([...path, 'max_alerts'], o.max_alerts, 0),
    ...httpOf(r, path, o, g),
  };
}

/** The integration's `http_config`, else the global one (Alertmanager copies the global one in). */
function httpOf(r: Reader, path: Path, o: Obj, g: GlobalConfig): { httpConfig?: HttpConfig } {
  const own = parseHttpConfig(r, [...path, 'http_config'], o.http_config);
  const h = own ?? g.httpConfig;
  return h ? { httpConfig: h } : {};
}

/** Copies the string fields `keys` (snake_case in the file) onto `out` (camelCase). */
function optionalStrings(r: Reader, path: Path, o: Obj, keys: readonly string[], out: Record<string, unknown>): void {
  for (const k of keys) {
    const s = r.str([...path, k], o[k]);
    if (s !== undefined) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = s;
  }
}

const SLACK_TEXTS = ['channel', 'username', 'icon_emoji', 'icon_url', 'title', 'title_link', 'pretext', 'text', 'fallback', 'color', 'footer'];

function parseSlack(r: Reader, path: Path, v: unknown, g: GlobalConfig): SlackConfig | null {
  const o = r.map(path, v, ['api_url', 'send_resolved', 'http_config', ...SLACK_TEXTS], [
    'api_url_file',
    'app_token',
    'app_token_file',
    'app_url',
    'link_names',
    'short_fields',
    'fields',
    'actions',
    'callback_id',
    'mrkdwn_in',
    'image_url',
    'thumb_url',
    'update_message',
    'timeout',
  ]);
  if (!o) return null;
  const apiUrl = r.url([...path, 'api_url'], o.api_url) ?? (o.api_url === undefined || o.api_url === null ? g.slackApiUrl : undefined);
  if (!apiUrl) {
    if (o.api_url === undefined || o.api_url === null) r.error([...path, 'api_url'], 'api_url is required (or set global.slack_api_url)');
    return null;
  }
  const out: SlackConfig = { apiUrl, sendResolved: r.bool([...path, 'send_resolved'], o.send_resolved, false), ...httpOf(r, path, o, g) };
  optionalStrings(r, path, o, SLACK_TEXTS, out as unknown as Record<string, unknown>);
  return out;
}

function parseMsTeams(r: Reader, path: Path, v: unknown, g: GlobalConfig): MsTeamsConfig | null {
  const o = r.map(path, v, ['webhook_url', 'send_resolved', 'http_config', 'title', 'summary', 'text'], ['webhook_url_file']);
  if (!o) return null;
  const webhookUrl = r.url([...path, 'webhook_url'], o.webhook_url);
  if (!webhookUrl) {
    if (o.webhook_url === undefined || o.webhook_url === null) r.error([...path, 'webhook_url'], 'webhook_url is required');
    return null;
  }
  const out: MsTeamsConfig = { webhookUrl, sendResolved: r.bool([...path, 'send_resolved'], o.send_resolved, true), ...httpOf(r, path, o, g) };
  optionalStrings(r, path, o, ['title', 'summary', 'text'], out as unknown as Record<string, unknown>);
  return out;
}

/** Go's `textproto.CanonicalMIMEHeaderKey` for ASCII header names: `x-team` → `X-Team`. */
function canonicalHeader(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

function parseEmail(r: Reader, path: Path, v: unknown, g: GlobalConfig): EmailConfig | null {
  const o = r.map(
    path,
    v,
    ['to', 'from', 'smarthost', 'hello', 'auth_username', 'auth_password', 'require_tls', 'tls_config', 'headers', 'html', 'text', 'send_resolved'],
    ['auth_password_file', 'auth_secret', 'auth_identity', 'threading'],
  );
  if (!o) return null;
  const to = r.str([...path, 'to'], o.to);
  if (!to) {
    r.error([...path, 'to'], 'missing to address in email config');
    return null;
  }
  const from = r.str([...path, 'from'], o.from) ?? g.smtpFrom;
  if (!from) r.error([...path, 'from'], 'from is required (or set global.smtp_from)');
  const smarthost = smarthostOf(r, [...path, 'smarthost'], o.smarthost) ?? (o.smarthost === undefined || o.smarthost === null ? g.smtpSmarthost : undefined);
  if (!smarthost && (o.smarthost === undefined || o.smarthost === null)) r.error([...path, 'smarthost'], 'smarthost is required (or set global.smtp_smarthost)');
  if (!from || !smarthost) return null;
  const out: EmailConfig = {
    to,
    from,
    smarthost,
    hello: r.str([...path, 'hello'], o.hello) ?? g.smtpHello,
    requireTls: r.bool([...path, 'require_tls'], o.require_tls, g.smtpRequireTls),
    sendResolved: r.bool([...path, 'send_resolved'], o.send_resolved, false),
  };
  const user = r.str([...path, 'auth_username'], o.auth_username) ?? g.smtpAuthUsername;
  if (user !== undefined) out.authUsername = user;
  const pass = r.str([...path, 'auth_password'], o.auth_password) ?? g.smtpAuthPassword;
  if (pass !== undefined) out.authPassword = pass;
  if (o.tls_config !== undefined && o.tls_config !== null) {
    const t = r.map([...path, 'tls_config'], o.tls_config, ['insecure_skip_verify', 'server_name'], ['ca_file', 'cert_file', 'key_file', 'ca', 'cert', 'key', 'min_version', 'max_version']);
    if (t) out.insecureSkipVerify = r.bool([...path, 'tls_config', 'insecure_skip_verify'], t.insecure_skip_verify, false);
  }
  const headers = r.strMap([...path, 'headers'], o.headers);
  if (headers) {
    // Alertmanager canonicalizes header names and refuses two that become the same.
    const canon: Record<string, string> = {};
    for (const [k, hv] of Object.entries(headers)) {
      const c = canonicalHeader(k);
      if (c in canon) r.error([...path, 'headers', k], `duplicate header "${c}" in email config`);
      canon[c] = hv;
    }
    out.headers = canon;
  }
  optionalStrings(r, path, o, ['html', 'text'], out as unknown as Record<string, unknown>);
  return out;
}

const PAGERDUTY_TEXTS = ['description', 'client', 'client_url', 'source', 'class', 'component', 'group'];

function parsePagerDuty(r: Reader, path: Path, v: unknown, g: GlobalConfig): PagerDutyConfig | null {
  const o = r.map(path, v, ['routing_key', 'service_key', 'url', 'severity', 'details', 'send_resolved', 'http_config', ...PAGERDUTY_TEXTS], [
    'routing_key_file',
    'service_key_file',
    'images',
    'links',
    'timeout',
  ]);
  if (!o) return null;
  const routingKey = r.str([...path, 'routing_key'], o.routing_key);
  const serviceKey = r.str([...path, 'service_key'], o.service_key);
  if (!routingKey && !serviceKey) {
    r.error(path, 'missing service or routing key in PagerDuty config');
    return null;
  }
  const out: PagerDutyConfig = {
    url: r.url([...path, 'url'], o.url) ?? g.pagerdutyUrl,
    sendResolved: r.bool([...path, 'send_resolved'], o.send_resolved, true),
    severity: r.str([...path, 'severity'], o.severity) ?? 'error',
    ...httpOf(r, path, o, g),
  };
  if (routingKey) out.routingKey = routingKey;
  if (serviceKey) out.serviceKey = serviceKey;
  const details = r.strMap([...path, 'details'], o.details);
  if (details) out.details = details;
  optionalStrings(r, path, o, PAGERDUTY_TEXTS, out as unknown as Record<string, unknown>);
  return out;
}

function parseReceiver(r: Reader, path: Path, v: unknown, g: GlobalConfig): Receiver | null {
  const o = r.map(path, v, ['name', 'webhook_configs', 'slack_configs', 'msteams_configs', 'email_configs', 'pagerduty_configs'], NOTIFIER_UNSUPPORTED);
  if (!o) return null;
  const name = r.str([...path, 'name'], o.name);
  if (!name) {
    r.error([...path, 'name'], 'missing name in receiver');
    return null;
  }
  const each = <T>(key: string, parse: (r: Reader, path: Path, v: unknown, g: GlobalConfig) => T | null): T[] =>
    r
      .list([...path, key], o[key])
      .map((x, i) => parse(r, [...path, key, i], x, g))
      .filter((x): x is T => x !== null);
  return {
    name,
    webhookConfigs: each('webhook_configs', parseWebhook),
    slackConfigs: each('slack_configs', parseSlack),
    msteamsConfigs: each('msteams_configs', parseMsTeams),
    emailConfigs: each('email_configs', parseEmail),
    pagerdutyConfigs: each('pagerduty_configs', parsePagerDuty),
    line: r.line(path),
  };
}

/** Names a route refers to, checked once everything is read. */
interface Refs {
  receivers: { name: string; path: Path }[];
  intervals: { name: string; path: Path }[];
}

const ROUTE_KEYS = ['receiver', 'group_by', 'continue', 'matchers', 'match', 'match_re', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals', 'routes'];

function parseRoute(r: Reader, path: Path, v: unknown, parent: Route | null, index: number, refs: Refs): Route {
  const o = r.map(path, v, ROUTE_KEYS) ?? {};
  const matchers = [...r.matchMap([...path, 'match'], o.match, '='), ...r.matchMap([...path, 'match_re'], o.match_re, '=~'), ...r.matchers([...path, 'matchers'], o.matchers)].sort(compareMatchers);
  const own = formatMatchers(matchers);
  const route: Route = {
    id: parent ? `${parent.id}/${own}/${index}` : own,
    key: parent ? `${parent.key}/${own}` : own,
    receiver: parent?.receiver ?? '',
    groupBy: parent?.groupBy ?? [],
    groupByAll: parent?.groupByAll ?? false,
    matchers,
    continue: r.bool([...path, 'continue'], o.continue, false),
    groupWaitMs: parent?.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS,
    groupIntervalMs: parent?.groupIntervalMs ?? DEFAULT_GROUP_INTERVAL_MS,
    repeatIntervalMs: parent?.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL_MS,
    muteTimeIntervals: [],
    activeTimeIntervals: [],
    routes: [],
    line: r.line(path),
  };
  const receiver = r.str([...path, 'receiver'], o.receiver);
  if (receiver) {
    route.receiver = receiver;
    refs.receivers.push({ name: receiver, path: [...path, 'receiver'] });
  }
  const groupBy = r.strList([...path, 'group_by'], o.group_by);
  if (groupBy) {
    const names: string[] = [];
    let all = false;
    groupBy.forEach((l, i) => {
      if (l === '...') all = true;
      else if (r.labelName([...path, 'group_by', i], l)) {
        if (names.includes(l)) r.error([...path, 'group_by', i], `duplicated label "${l}" in group_by`);
        else names.push(l);
      }
    });
    if (all && names.length > 0) r.error([...path, 'group_by'], "cannot have wildcard group_by ('...') and other labels at the same time");
    if (names.length > 0) {
      route.groupBy = names.sort();
      route.groupByAll = false;
    } else if (all) {
      route.groupBy = [];
      route.groupByAll = true;
    }
  }
  const wait = r.duration([...path, 'group_wait'], o.group_wait);
  if (wait !== undefined) route.groupWaitMs = wait;
  const interval = r.duration([...path, 'group_interval'], o.group_interval);
  if (interval === 0) r.error([...path, 'group_interval'], 'group_interval cannot be zero');
  else if (interval !== undefined) route.groupIntervalMs = interval;
  const repeat = r.duration([...path, 'repeat_interval'], o.repeat_interval);
  if (repeat === 0) r.error([...path, 'repeat_interval'], 'repeat_interval cannot be zero');
  else if (repeat !== undefined) route.repeatIntervalMs = repeat;
  for (const [key, field] of [
    ['mute_time_intervals', 'muteTimeIntervals'],
    ['active_time_intervals', 'activeTimeIntervals'],
  ] as const) {
    const names = r.strList([...path, key], o[key]) ?? [];
    names.forEach((name, i) => refs.intervals.push({ name, path: [...path, key, i] }));
    route[field] = names;
  }
  if (!parent) {
    if (!receiver) r.error([...path, 'receiver'], 'root route must specify a default receiver');
    const matcherKey = ['matchers', 'match', 'match_re'].find((k) => o[k] !== undefined);
    if (matcherKey) r.error([...path, matcherKey], 'root route must not have any matchers');
    if (route.muteTimeIntervals.length > 0) r.error([...path, 'mute_time_intervals'], 'root route must not have any mute time intervals');
    if (route.activeTimeIntervals.length > 0) r.error([...path, 'active_time_intervals'], 'root route must not have any active time intervals');
  }
  route.routes = r.list([...path, 'routes'], o.routes).map((child, i) => parseRoute(r, [...path, 'routes', i], child, route, i, refs));
  return route;
}

function parseInhibitRule(r: Reader, path: Path, v: unknown): InhibitRule | null {
  const o = r.map(path, v, ['source_matchers', 'target_matchers', 'source_match', 'source_match_re', 'target_match', 'target_match_re', 'equal']);
  if (!o) return null;
  const equal: string[] = [];
  (r.strList([...path, 'equal'], o.equal) ?? []).forEach((l, i) => {
    if (r.labelName([...path, 'equal', i], l)) equal.push(l);
  });
  return {
    sourceMatchers: [...r.matchMap([...path, 'source_match'], o.source_match, '='), ...r.matchMap([...path, 'source_match_re'], o.source_match_re, '=~'), ...r.matchers([...path, 'source_matchers'], o.source_matchers)],
    targetMatchers: [...r.matchMap([...path, 'target_match'], o.target_match, '='), ...r.matchMap([...path, 'target_match_re'], o.target_match_re, '=~'), ...r.matchers([...path, 'target_matchers'], o.target_matchers)],
    equal,
    line: r.line(path),
  };
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const CLOCK = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** `a:b` or `a` split into its two ends (Alertmanager's inclusive ranges). */
function rangeEnds(r: Reader, path: Path, v: unknown): [string, string] | null {
  const s = r.str(path, v);
  if (s === undefined) return null;
  const parts = s.split(':');
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
    r.error(path, `invalid range "${s}": expected a value or start:end`);
    return null;
  }
  return [parts[0]!.trim(), (parts[1] ?? parts[0]!).trim()];
}

function parseRanges(r: Reader, path: Path, v: unknown, one: (path: Path, text: string) => number | null, check: (path: Path, range: InclusiveRange) => string | null): InclusiveRange[] | undefined {
  if (v === undefined || v === null) return undefined;
  const out: InclusiveRange[] = [];
  r.list(path, v).forEach((x, i) => {
    const ends = rangeEnds(r, [...path, i], x);
    if (!ends) return;
    const begin = one([...path, i], ends[0]);
    // A single value is a range of one: parse (and report) it once.
    const end = ends[1] === ends[0] ? begin : one([...path, i], ends[1]);
    if (begin === null || end === null) return;
    const problem = check([...path, i], { begin, end });
    if (problem) r.error([...path, i], problem);
    else out.push({ begin, end });
  });
  return out;
}

function named(names: readonly string[], what: string, min: number, max: number) {
  return (r: Reader, path: Path, text: string): number | null => {
    const i = names.indexOf(text.toLowerCase());
    if (i >= 0) return i + min;
    if (/^-?\d+$/.test(text) && names === MONTHS) {
      const n = Number(text);
      if (n >= min && n <= max) return n;
    }
    r.error(path, `invalid ${what} "${text}"`);
    return null;
  };
}

function parseTimeInterval(r: Reader, path: Path, v: unknown): TimeInterval | null {
  const o = r.map(path, v, ['times', 'weekdays', 'days_of_month', 'months', 'years', 'location']);
  if (!o) return null;
  const out: TimeInterval = {};
  if (o.times !== undefined && o.times !== null) {
    out.times = [];
    r.list([...path, 'times'], o.times).forEach((t, i) => {
      const tp = [...path, 'times', i];
      const to = r.map(tp, t, ['start_time', 'end_time']);
      if (!to) return;
      const clock = (key: string): number | null => {
        const s = r.str([...tp, key], to[key]);
        if (s === undefined) {
          r.error([...tp, key], `${key} is required`);
          return null;
        }
        const m = CLOCK.exec(s);
        if (!m) {
          r.error([...tp, key], `invalid time "${s}": expected HH:MM between 00:00 and 24:00`);
          return null;
        }
        return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
      };
      const start = clock('start_time');
      const end = clock('end_time');
      if (start === null || end === null) return;
      if (start >= end) r.error(tp, 'start_time cannot be equal to or later than end_time');
      else out.times!.push({ startMinute: start, endMinute: end });
    });
  }
  const weekday = named(WEEKDAYS, 'weekday', 0, 6);
  const weekdays = parseRanges(r, [...path, 'weekdays'], o.weekdays, (p, t) => weekday(r, p, t), (_, x) => (x.begin > x.end ? 'start day cannot be after end day' : null));
  if (weekdays) out.weekdays = weekdays;
  const days = parseRanges(
    r,
    [...path, 'days_of_month'],
    o.days_of_month,
    (p, t) => {
      const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
      if (Number.isInteger(n) && n !== 0 && n >= -31 && n <= 31) return n;
      r.error(p, `invalid day of month "${t}": expected 1 to 31 or -31 to -1`);
      return null;
    },
    (_, x) => {
      if (x.begin < 0 && x.end > 0) return 'end day must be negative if start day is negative';
      if (Math.sign(x.begin) === Math.sign(x.end) && x.begin > x.end) return 'start day cannot be after end day';
      return null;
    },
  );
  if (days) out.daysOfMonth = days;
  const month = named(MONTHS, 'month', 1, 12);
  const months = parseRanges(r, [...path, 'months'], o.months, (p, t) => month(r, p, t), (_, x) => (x.begin > x.end ? 'start month cannot be after end month' : null));
  if (months) out.months = months;
  const years = parseRanges(
    r,
    [...path, 'years'],
    o.years,
    (p, t) => {
      if (/^\d+$/.test(t) && Number(t) > 0) return Number(t);
      r.error(p, `invalid year "${t}"`);
      return null;
    },
    (_, x) => (x.begin > x.end ? 'start year cannot be after end year' : null),
  );
  if (years) out.years = years;
  const location = r.str([...path, 'location'], o.location);
  if (location !== undefined) {
    // Go's "Local" is the machine's zone.
    const zone = location === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : location;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      out.location = zone;
    } catch {
      r.error([...path, 'location'], `unknown time zone "${location}"`);
    }
  }
  return out;
}

const TOP_KEYS = ['global', 'route', 'inhibit_rules', 'receivers', 'time_intervals', 'mute_time_intervals'];

/** Parses the text of an Alertmanager-format notifications file; pure. */
export function parseNotificationConfig(text: string, file = 'alertmanager.yml'): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return { config: null, errors: doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, field: null, message: e.message.split('\n')[0]! })) };
  }
  const r = new Reader(file, doc, lc);
  const root = r.map([], doc.toJS({ maxAliasCount: 1000 }) as unknown, TOP_KEYS, ['templates', 'tracing']);
  if (!root) return { config: null, errors: r.errors };
  const global = parseGlobal(r, root.global);

  const timeIntervals = new Map<string, TimeInterval[]>();
  for (const key of ['mute_time_intervals', 'time_intervals']) {
    r.list([key], root[key]).forEach((x, i) => {
      const path = [key, i];
      const o = r.map(path, x, ['name', 'time_intervals']);
      if (!o) return;
      const name = r.str([...path, 'name'], o.name);
      if (!name) return r.error([...path, 'name'], 'missing name in time interval');
      if (timeIntervals.has(name)) return r.error([...path, 'name'], `time interval "${name}" is not unique`);
      const specs = r
        .list([...path, 'time_intervals'], o.time_intervals)
        .map((s, j) => parseTimeInterval(r, [...path, 'time_intervals', j], s))
        .filter((s): s is TimeInterval => s !== null);
      timeIntervals.set(name, specs);
    });
  }

  const receivers: Receiver[] = [];
  const receiverNames = new Set<string>();
  r.list(['receivers'], root.receivers).forEach((x, i) => {
    const rcv = parseReceiver(r, ['receivers', i], x, global);
    if (!rcv) return;
    if (receiverNames.has(rcv.name)) return r.error(['receivers', i, 'name'], `receiver name "${rcv.name}" is not unique`);
    receiverNames.add(rcv.name);
    receivers.push(rcv);
  });

  const inhibitRules = r
    .list(['inhibit_rules'], root.inhibit_rules)
    .map((x, i) => parseInhibitRule(r, ['inhibit_rules', i], x))
    .filter((x): x is InhibitRule => x !== null);

  const refs: Refs = { receivers: [], intervals: [] };
  if (root.route === undefined || root.route === null) r.error(['route'], 'route is required (the root route and its default receiver)');
  const route = parseRoute(r, ['route'], root.route ?? {}, null, 0, refs);
  for (const ref of refs.receivers) if (!receiverNames.has(ref.name)) r.error(ref.path, `receiver "${ref.name}" is not defined`);
  for (const ref of refs.intervals) if (!timeIntervals.has(ref.name)) r.error(ref.path, `time interval "${ref.name}" is not defined`);

  // In file order, so that the first error a user reads is the first one in the file.
  if (r.errors.length) return { config: null, errors: [...r.errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
  return { config: { global, route, inhibitRules, timeIntervals, receivers }, errors: [] };
}

/** Formats an error as `file:line: field: message`. */
export function formatConfigError(e: ConfigError): string {
  return `${e.file}${e.line ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** The configuration used when the notifications file does not exist: one receiver without integrations. */
export function defaultNotificationConfig(): NotificationConfig {
  const r = parseNotificationConfig('route:\n  receiver: default\n  group_by: [alertname]\nreceivers:\n  - name: default\n');
  if (!r.config) throw new Error('built-in default notification configuration is invalid');
  return r.config;
}

/**
 * The file Vigil writes on first start: Alertmanager's defaults except group_wait 10s (a first
 * notification sooner), and a commented example of every receiver type.
 */
export const STARTER_NOTIFICATIONS_YAML = `# Vigil notification settings, in Alertmanager's configuration format
# (https://prometheus.io/docs/alerting/latest/configuration/). Edit here or in the UI
# (Alerting > Notifications); changes are picked up at once. See docs/alerting-notifications.md.

global:
  resolve_timeout: 5m
  # smtp_smarthost: mail.example.com:587
  # smtp_from: vigil@example.com
  # smtp_auth_username: vigil
  # smtp_auth_password: change-me
  # smtp_require_tls: true
  # slack_api_url: https://hooks.slack.com/services/T000/B000/XXXX

route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s        # Alertmanager's default is 30s; Vigil's starter file notifies sooner
  group_interval: 5m
  repeat_interval: 4h
  # routes:
  #   - matchers: ['severity="critical"']
  #     receiver: oncall
  #     continue: true
  #   - matchers: ['system=~"rms|lms"']
  #     receiver: team-chat
  #     mute_time_intervals: [nights]

# inhibit_rules:
#   # A firing critical alert mutes the warnings of the same alert name and service.
#   - source_matchers: ['severity="critical"']
#     target_matchers: ['severity="warning"']
#     equal: [alertname, service_name]

# time_intervals:
#   - name: nights
#     time_intervals:
#       - times: [{ start_time: '22:00', end_time: '24:00' }, { start_time: '00:00', end_time: '07:00' }]
#         location: Europe/Berlin
#   - name: weekends
#     time_intervals:
#       - weekdays: ['saturday', 'sunday']

receivers:
  - name: default
  # - name: oncall
  #   webhook_configs:
  #     - url: https://hooks.example.com/alerts
  #       send_resolved: true
  #       max_alerts: 0
  #       http_config:
  #         authorization: { type: Bearer, credentials: change-me }
  #   pagerduty_configs:
  #     - routing_key: 0123456789abcdef0123456789abcdef
  #       severity: critical
  # - name: team-chat
  #   slack_configs:
  #     - api_url: https://hooks.slack.com/services/T000/B000/XXXX
  #       channel: '#alerts'
  #       send_resolved: true
  #   msteams_configs:
  #     - webhook_url: https://example.webhook.office.com/webhookb2/XXXX
  #   email_configs:
  #     - to: oncall@example.com
  #       send_resolved: true
`;

/** Writes the starter file when `path` does not exist yet; returns whether it wrote. */
export function writeDefaultNotificationsOnce(path: string): boolean {
  if (existsSync(path)) return false;
  try {
    // 'wx': never overwrite a file another process wrote meanwhile. 0600: it will hold secrets.
    writeFileSync(path, STARTER_NOTIFICATIONS_YAML, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Reads and parses the notifications file; a missing file yields the default configuration. */
export function loadNotificationsFile(path: string, file = 'alertmanager.yml'): ParseResult {
  if (!existsSync(path)) return { config: defaultNotificationConfig(), errors: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { config: null, errors: [{ file, line: null, field: null, message: (err as Error).message }] };
  }
  return parseNotificationConfig(text, file);
}
