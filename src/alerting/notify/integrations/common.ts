/**
 * What every integration shares: the notification it is handed, Alertmanager's template data
 * (`GetTemplateData`) and default texts (`default.tmpl`), a small renderer for the template forms
 * users write most in titles and texts, and one JSON POST through the outbound guard that turns the
 * answer into an attempt result without ever putting the URL (a secret) into an error.
 */
import type { HttpConfig } from '../config.ts';
import { guardedFetch, readBounded, type OutboundPolicy } from '../../../net/outbound.ts';
import type { Labels, NotifyAlert } from '../../types.ts';
import { isRecoverableStatus, type AttemptResult } from '../retry.ts';

/** One notification of one aggregation group to one receiver. */
export interface Notification {
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  /** The group's alerts, sorted; resolved ones included (integrations drop them without send_resolved). */
  alerts: NotifyAlert[];
  externalUrl: string;
  /** When the flush happened (epoch ms): decides which alerts count as resolved. */
  now: number;
}

/** What an integration gets besides the notification. */
export interface DeliveryContext {
  /** The same for every attempt of one notification: receivers drop a repeat they already took. */
  idempotencyKey: string;
  policy: OutboundPolicy;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** One configured integration of a receiver (a webhook_config, slack_config …). */
export interface Integration {
  /** `webhook`, `slack`, `msteams`, `email`, `pagerduty`. */
  readonly type: string;
  /** Position among the receiver's integrations of the same type (Alertmanager's index). */
  readonly index: number;
  readonly sendResolved: boolean;
  /** Sends one notification; resolves with the result (throws only for an unexpected failure). */
  notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult>;
}

/** Whether an alert counts as resolved at `now` (resolved, or its end time passed). */
export function isResolved(a: NotifyAlert, now: number): boolean {
  return a.resolved || (a.endsAt !== null && a.endsAt <= now);
}

/** An alert in Alertmanager's template data (and webhook JSON). */
export interface TemplateAlert {
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's template data. */
export interface TemplateData {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: TemplateAlert[];
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
}

/** The zero time Go writes for an unset `time.Time`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** A time as Go's `time.Time` marshals to JSON (RFC 3339, fraction without trailing zeros), or Go's zero time. */
export function goTime(ms: number | null): string {
  if (ms === null || ms <= 0) return GO_ZERO_TIME;
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

/** The labels every alert has with the same value. */
function common(sets: Labels[]): Labels {
  if (sets.length === 0) return {};
  const out: Labels = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return sortedObject(out);
}

/** A label set with its names in order (Go marshals maps sorted; receivers may compare text). */
export function sortedObject(l: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(l).sort()) out[k] = l[k]!;
  return out;
}

/** The template data of a notification (Alertmanager's `GetTemplateData`). */
export function templateData(n: Notification): TemplateData {
  const alerts: TemplateAlert[] = n.alerts.map((a) => {
    const resolved = isResolved(a, n.now);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: sortedObject(a.labels),
      annotations: sortedObject(a.annotations),
      startsAt: goTime(a.startsAt),
      // Alertmanager does not expose an end time that has not been reached yet (types.Alerts).
      endsAt: resolved ? goTime(a.endsAt) : GO_ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    };
  });
  return {
    receiver: n.receiver,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: sortedObject(n.groupLabels),
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: n.externalUrl,
  };
}

const values = (l: Labels) => Object.keys(l).sort().map((k) => l[k]!);

/** Alertmanager's `__subject`: `[FIRING:2] <group label values> (<other common label values>)`. */
export function subject(d: TemplateData): string {
  const firing = d.alerts.filter((a) => a.status === 'firing').length;
  let s = `[${d.status.toUpperCase()}${d.status === 'firing' ? `:${firing}` : ''}] ${values(d.groupLabels).join(' ')} `;
  if (Object.keys(d.commonLabels).length > Object.keys(d.groupLabels).length) {
    const rest: Labels = {};
    for (const [k, v] of Object.entries(d.commonLabels)) if (!(k in d.groupLabels)) rest[k] = v;
    s += `(${values(rest).join(' ')})`;
  }
  return s;
}

/** Link to the alerts of a receiver in Vigil's UI (Alertmanager's `__alertmanagerURL`). */
export function alertsUrl(d: TemplateData): string {
  return `${d.externalURL.replace(/\/$/, '')}/alerts?receiver=${encodeURIComponent(d.receiver)}`;
}

/** Alertmanager's `__text_alert_list`. */
export function textAlertList(alerts: TemplateAlert[]): string {
  return alerts
    .map((a) => {
      const labels = Object.entries(a.labels).map(([k, v]) => ` - ${k} = ${v}\n`).join('');
      const annotations = Object.entries(a.annotations).map(([k, v]) => ` - ${k} = ${v}\n`).join('');
      return `Labels:\n${labels}Annotations:\n${annotations}Source: ${a.generatorURL}\n`;
    })
    .join('');
}

/** Alertmanager's `__text_alert_list_markdown`. */
export function markdownAlertList(alerts: TemplateAlert[]): string {
  return alerts
    .map((a) => {
      const labels = Object.entries(a.labels).map(([k, v]) => `  - ${k} = ${v}\n`).join('');
      const annotations = Object.entries(a.annotations).map(([k, v]) => `  - ${k} = ${v}\n`).join('');
      return `\nLabels:\n${labels}\nAnnotations:\n${annotations}\nSource: ${a.generatorURL}\n`;
    })
    .join('');
}

/** The name senders sign with (Alertmanager's `__alertmanager`). */
export const SENDER_NAME = 'Vigil';

/** Alertmanager's named default templates that integrations and users refer to with `{{ template "…" . }}`. */
const NAMED: Record<string, (d: TemplateData) => string> = {
  __subject: subject,
  __alertmanager: () => SENDER_NAME,
  __alertmanagerURL: alertsUrl,
  __description: () => '',
  'slack.default.title': subject,
  'slack.default.username': () => SENDER_NAME,
  'slack.default.titlelink': alertsUrl,
  'slack.default.fallback': (d) => `${subject(d)} | ${alertsUrl(d)}`,
  'slack.default.text': () => '',
  'slack.default.pretext': () => '',
  'email.default.subject': subject,
  'pagerduty.default.description': subject,
  'pagerduty.default.client': () => SENDER_NAME,
  'pagerduty.default.clientURL': alertsUrl,
  'msteams.default.title': subject,
  'msteams.default.summary': subject,
  'msteams.default.text': (d) => {
    const firing = d.alerts.filter((a) => a.status === 'firing');
    const resolved = d.alerts.filter((a) => a.status === 'resolved');
    let s = '';
    if (firing.length) s += `\n# Alerts Firing:\n${markdownAlertList(firing)}\n`;
    if (resolved.length) s += `\n# Alerts Resolved:\n${markdownAlertList(resolved)}\n`;
    return s;
  },
};

/** The text of a named default template (empty for an unknown name). */
export function namedTemplate(name: string, d: TemplateData): string {
  return NAMED[name]?.(d) ?? '';
}

/**
 * Renders the template forms titles and texts use most — `{{ .Status }}`, `{{ .Receiver }}`,
 * `{{ .ExternalURL }}`, `{{ .GroupLabels.x }}`, `{{ .CommonLabels.x }}`, `{{ .CommonAnnotations.x }}`,
 * `{{ .Alerts.Firing | len }}`, `{{ .Alerts.Resolved | len }}`, `{{ len .Alerts }}`, the pipes
 * `toUpper`/`toLower`/`title`, and `{{ template "name" . }}` for Alertmanager's default names. Vigil
 * has no Go template engine: anything else is left as written, so the reader sees what was not expanded.
 */
export function renderTemplate(text: string, d: TemplateData): string {
  return text.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (whole, expr: string) => {
    const tmpl = /^template\s+"([^"]+)"\s+\.$/.exec(expr);
    if (tmpl) return NAMED[tmpl[1]!] ? NAMED[tmpl[1]!]!(d) : whole;
    const [head, ...pipes] = expr.split('|').map((p) => p.trim());
    const value = evalField(head!, d);
    if (value === undefined) return whole;
    let out = value;
    for (const p of pipes) {
      if (p === 'toUpper') out = out.toUpperCase();
      else if (p === 'toLower') out = out.toLowerCase();
      else if (p === 'title') out = out.replace(/\b\w/g, (c) => c.toUpperCase());
      else if (p === 'len' && (head === '.Alerts.Firing' || head === '.Alerts.Resolved' || head === '.Alerts')) continue;
      else return whole;
    }
    return out;
  });
}

function evalField(expr: string, d: TemplateData): string | undefined {
  const firing = d.alerts.filter((a) => a.status === 'firing').length;
  switch (expr) {
    case '.Status':
      return d.status;
    case '.Receiver':
      return d.receiver;
    case '.ExternalURL':
      return d.externalURL;
    case '.Alerts.Firing':
    case 'len .Alerts.Firing':
      return String(firing);
    case '.Alerts.Resolved':
    case 'len .Alerts.Resolved':
      return String(d.alerts.length - firing);
    case '.Alerts':
    case 'len .Alerts':
      return String(d.alerts.length);
  }
  const m = /^\.(GroupLabels|CommonLabels|CommonAnnotations)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
  if (!m) return undefined;
  const set = m[1] === 'GroupLabels' ? d.groupLabels : m[1] === 'CommonLabels' ? d.commonLabels : d.commonAnnotations;
  return set[m[2]!] ?? '';
}

/** Authentication of an HTTP integration (Alertmanager's `http_config`). */
export type HttpAuth = Omit<HttpConfig, 'followRedirects'> & {
  /** `follow_redirects` (default true); each hop is re-checked by the outbound guard. */
  followRedirects?: boolean;
};

/** Redirects an integration follows under its `http_config`. */
export function redirectsAllowed(auth: HttpAuth | undefined): number {
  return auth?.followRedirects === false ? 0 : 3;
}

/** The Authorization header an `http_config` asks for, if any. */
export function authHeader(auth: HttpAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.authorization?.credentials) return `${auth.authorization.type || 'Bearer'} ${auth.authorization.credentials}`;
  if (auth.bearerToken) return `Bearer ${auth.bearerToken}`;
  if (auth.basicAuth) return `Basic ${Buffer.from(`${auth.basicAuth.username}:${auth.basicAuth.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** Receivers' answers are read this far at most (for the error message). */
const MAX_ANSWER_BYTES = 4096;

/**
 * POSTs a JSON body through the outbound guard and classifies the answer: 2xx ok; 5xx and 429
 * recoverable; other statuses not. Errors name the status and the start of the answer, never the URL.
 */
export async function postJson(url: string, body: unknown, headers: Record<string, string>, ctx: DeliveryContext, maxRedirects = 3): Promise<AttemptResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, recoverable: false, status: null, error: 'the configured URL is not valid' };
  }
  const all: Record<string, string> = { 'content-type': 'application/json', 'user-agent': `${SENDER_NAME}/1.0`, ...headers };
  if (target.username || target.password) {
    // fetch refuses URLs with credentials: send them as Basic authentication instead.
    all.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
  try {
    const { response, agent } = await guardedFetch(target, { method: 'POST', headers: all, body: JSON.stringify(body), signal }, { policy: ctx.policy, timeoutMs: ctx.timeoutMs, maxRedirects });
    try {
      const text = (await readBounded(response.body, MAX_ANSWER_BYTES)).slice(0, 300).trim();
      if (response.status >= 200 && response.status < 300) return { ok: true, recoverable: false, status: response.status, error: null };
      return { ok: false, recoverable: isRecoverableStatus(response.status), status: response.status, error: `status ${response.status}${text ? `: ${text}` : ''}` };
    } finally {
      await agent.close();
    }
  } catch (err) {
    if (timeout.aborted) return { ok: false, recoverable: true, status: null, error: `timed out after ${ctx.timeoutMs} ms` };
    return { ok: false, recoverable: err instanceof Error && err.name === 'OutboundBlockedError' ? false : true, status: null, error: networkError(err, url) };
  }
}

/** A network error's message without the URL (it may carry a token). */
export function networkError(err: unknown, ...secrets: string[]): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  let msg = e?.cause?.code ? `${e.message}: ${e.cause.code}` : e?.cause?.message ? `${e.message}: ${e.cause.message}` : String(e?.message ?? err);
  for (const s of secrets) if (s) msg = msg.split(s).join('<secret>');
  return msg;
}

