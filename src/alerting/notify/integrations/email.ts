/**
 * Email integration: SMTP through nodemailer, to the smarthost resolved through the outbound guard
 * (the connection goes to the checked address; TLS still verifies the host name). Subject and bodies
 * follow Alertmanager's defaults: `[FIRING:2] <group labels> (<common labels>)`, a plain-text body
 * and an HTML one listing each alert's labels, annotations and source.
 */
import type { EmailConfig } from '../config.ts';
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import { resolveAllowed } from '../../../net/outbound.ts';
import { alertsUrl, namedTemplate, networkError, renderTemplate, subject, templateData, textAlertList, type DeliveryContext, type Integration, type Notification, type TemplateAlert, type TemplateData } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** An email_config with the global smtp_* defaults applied. */
export type EmailOptions = Omit<EmailConfig, 'hello'> & { hello?: string };

/** The message an email notification sends; pure. */
export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function htmlAlerts(title: string, alerts: TemplateAlert[]): string {
  if (alerts.length === 0) return '';
  const rows = alerts
    .map((a) => {
      const kv = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${escapeHtml(k)} = ${escapeHtml(v)}<br />`).join('');
      const source = a.generatorURL ? `<a href="${escapeHtml(a.generatorURL)}">Source</a>` : '';
      return `<tr><td style="padding:8px 0;border-top:1px solid #e9e9e9"><strong>Labels</strong><br />${kv(a.labels)}${
        Object.keys(a.annotations).length ? `<strong>Annotations</strong><br />${kv(a.annotations)}` : ''
      }${source}</td></tr>`;
    })
    .join('');
  return `<tr><td><strong>[${alerts.length}] ${title}</strong></td></tr>${rows}`;
}

/** Alertmanager's `email.default.html`, reduced to what a mail client shows. */
export function defaultHtml(d: TemplateData): string {
  const firing = d.alerts.filter((a) => a.status === 'firing');
  const resolved = d.alerts.filter((a) => a.status === 'resolved');
  const color = d.status === 'firing' ? '#E6522C' : '#68B90F';
  const head =
    d.status === 'firing'
      ? `${firing.length} alert${firing.length === 1 ? '' : 's'} for ${Object.entries(d.groupLabels).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`).join(' ')}`
      : `Resolved: ${Object.entries(d.groupLabels).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`).join(' ')}`;
  return `<!DOCTYPE html>
<html><head><meta name="viewport" content="width=device-width" /><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>${escapeHtml(subject(d))}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;font-size:14px;background:#f6f6f6;margin:0;padding:20px">
<table width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;background:#fff;border:1px solid #e9e9e9">
<tr><td style="background:${color};color:#fff;padding:20px;font-size:16px">${head}</td></tr>
<tr><td style="padding:20px"><table width="100%" cellpadding="0" cellspacing="0">
<tr><td><a href="${escapeHtml(alertsUrl(d))}" style="color:#348eda">View in Vigil</a></td></tr>
${htmlAlerts('Firing', firing)}${htmlAlerts('Resolved', resolved)}
</table></td></tr>
<tr><td style="padding:10px 20px;color:#999;font-size:12px">Sent by Vigil</td></tr>
</table></body></html>`;
}

/** Builds the email of a notification; pure. */
export function emailMessage(n: Notification, o: Pick<EmailOptions, 'to' | 'from' | 'headers' | 'html' | 'text'>): EmailMessage {
  const d = templateData(n);
  const headers: Record<string, string> = {};
  let subj = namedTemplate('email.default.subject', d);
  let to = o.to;
  let from = o.from;
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    const value = renderTemplate(v, d);
    const lower = k.toLowerCase();
    if (lower === 'subject') subj = value;
    else if (lower === 'to') to = value;
    else if (lower === 'from') from = value;
    else headers[k] = value;
  }
  const text = o.text === undefined ? `${subject(d)}\n\n${d.alerts.some((a) => a.status === 'firing') ? `Firing:\n${textAlertList(d.alerts.filter((a) => a.status === 'firing'))}\n` : ''}${d.alerts.some((a) => a.status === 'resolved') ? `Resolved:\n${textAlertList(d.alerts.filter((a) => a.status === 'resolved'))}\n` : ''}View in Vigil: ${alertsUrl(d)}\n` : renderTemplate(o.text, d);
  return { from, to: renderTemplate(to, d), subject: subj, text, html: o.html === undefined ? defaultHtml(d) : renderTemplate(o.html, d), headers };
}

/** Splits `host:port` (IPv6 in brackets); port 25 when absent. */
export function parseSmarthost(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  return { host: s.replace(/^\[|\]$/g, ''), port: 25 };
}

/** Sends email over SMTP. */
export class EmailIntegration implements Integration {
  readonly type = 'email';

  constructor(
    readonly index: number,
    private readonly opts: EmailOptions,
  ) {}

  get sendResolved(): boolean {
    return this.opts.sendResolved;
  }

  async notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult> {
    const o = this.opts;
    if (!o.smarthost) return { ok: false, recoverable: false, status: null, error: 'no smarthost: set smarthost or global.smtp_smarthost' };
    if (!o.from) return { ok: false, recoverable: false, status: null, error: 'no sender: set from or global.smtp_from' };
    const { host, port } = parseSmarthost(o.smarthost);
    let address: string;
    try {
      // Resolved once and checked: the SMTP connection goes to this address, not to a second lookup.
      address = (await resolveAllowed(host, ctx.policy)).address;
    } catch (err) {
      const blocked = (err as Error).name === 'OutboundBlockedError';
      return { ok: false, recoverable: !blocked, status: null, error: networkError(err) };
    }
    const transport = nodemailer.createTransport({
      host: address,
      port,
      secure: port === 465,
      requireTLS: port !== 465 && o.requireTls,
      ignoreTLS: port !== 465 && !o.requireTls,
      name: o.hello || 'localhost',
      auth: o.authUsername ? { user: o.authUsername, pass: o.authPassword ?? '' } : undefined,
      tls: { servername: isIP(host) ? undefined : host, rejectUnauthorized: !o.insecureSkipVerify },
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    const m = emailMessage(n, o);
    try {
      await transport.sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        headers: { ...m.headers, 'X-Idempotency-Key': ctx.idempotencyKey },
      });
      return { ok: true, recoverable: false, status: null, error: null };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      // 5xx SMTP replies are permanent (bad recipient, refused authentication); 4xx and network errors pass.
      const permanent = typeof code === 'number' && code >= 500;
      return { ok: false, recoverable: !permanent, status: null, error: networkError(err, o.authPassword ?? '') };
    } finally {
      transport.close();
    }
  }
}
