/**
 * Alertmanager API v2, the subset users' tools speak (amtool, Grafana's Alertmanager data source,
 * Prometheus sending alerts):
 *
 *   GET    /api/v2/silences          read   ?filter=<matcher> (repeatable)
 *   POST   /api/v2/silences          write  AmPostableSilence (with `id`: update) → {silenceID}
 *   GET    /api/v2/silence/:id       read
 *   DELETE /api/v2/silence/:id       write  expires it
 *   GET    /api/v2/alerts            read   ?filter, active, silenced, inhibited, unprocessed, receiver
 *   POST   /api/v2/alerts            write  alerts from other tools, into the notifier
 *   GET    /api/v2/alerts/groups     read   alerts by aggregation group (what `amtool alert query` of
 *                                           newer versions and Grafana read)
 *   GET    /api/v2/status            read   cluster, config (secrets masked for non-admins), version, uptime
 *   GET    /api/v2/receivers         read
 *
 * Errors are answered as Alertmanager answers them: a JSON string body with 400/404, which amtool prints.
 * Silence changes are audited (`silence.created`, `silence.updated`, `silence.expired`); posted alerts
 * are not changes of configuration and are not.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AmGettableAlert, AmGettableSilence, AmMatcher, AmPostableSilence } from '../../api/contract.ts';
import { fingerprint, type Labels, type NotifyAlert } from '../../alerting/types.ts';
import { compileMatcherRegex, MatcherError, matchesValue, parseMatchers, type Matcher } from '../../alerting/notify/matchers.ts';
import { allows } from '../access.ts';
import type { AuditLog } from '../../store/state/audit.ts';
import { auditChange } from './alerting.ts';

/** Silences as the API needs them (src/alerting/notify/silences.ts). */
export interface SilenceApi {
  list(now: number): AmGettableSilence[];
  get(id: string, now: number): AmGettableSilence | undefined;
  /** Creates or updates; throws {@link SilenceInputError} for an invalid silence, {@link SilenceNotFoundError} for an unknown id. */
  upsert(s: AmPostableSilence, now: number): Promise<string>;
  /** Expires a silence; false when there is no such silence. */
  expire(id: string, now: number): Promise<boolean>;
}

/** An invalid silence (the message names the field). */
export class SilenceInputError extends Error {}
/** An update or expiry of a silence that does not exist. */
export class SilenceNotFoundError extends Error {}

/** What the Alertmanager API routes need. */
export interface AlertmanagerApiContext {
  silences: SilenceApi;
  /** The notifier's view of alerts, and where posted alerts go. */
  alerts(): AmGettableAlert[];
  accept(alerts: NotifyAlert[]): void;
  receivers(): string[];
  /** The notifications file as text: masked unless `secrets`. */
  configText(secrets: boolean): string;
  /** How long a posted alert without `endsAt` stays firing unless posted again. */
  resolveTimeoutMs: number;
  startedAt: number;
  /** Vigil's own version (reported as the revision; the version is the Alertmanager API level Vigil speaks). */
  version: string;
  audit?: Pick<AuditLog, 'record'>;
  now?: () => number;
}

/** The Alertmanager release whose API v2 Vigil follows (Debian's amtool is 0.25). */
export const ALERTMANAGER_API_VERSION = '0.25.0';

type Query = Record<string, string | string[] | undefined>;

function list(q: Query, name: string): string[] {
  const v = q[name] ?? q[`${name}[]`];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function bool(q: Query, name: string): boolean {
  const v = list(q, name)[0];
  if (v === undefined) return true;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new MatcherError(`${name}: expected true or false, got ${JSON.stringify(v)}`);
}

/** Alertmanager answers errors as a bare JSON string. */
function amError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(JSON.stringify(message));
}

function filters(q: Query): Matcher[] {
  return list(q, 'filter').flatMap((f) => parseMatchers(f));
}

/**
 * Alertmanager's `matchFilterLabels`: each filter matcher must match the label set; a negative
 * matcher with an empty value passes when the label exists, a positive one with an empty value when
 * it does not.
 */
export function matchFilterLabels(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) {
    const present = Object.hasOwn(labels, m.name);
    const negative = m.type === '!=' || m.type === '!~';
    if (m.value === '' && (negative ? present : !present)) continue;
    if (!matchesValue(m, labels[m.name] ?? '')) return false;
  }
  return true;
}

const STATE_ORDER = { active: 0, pending: 1, expired: 2 } as const;

/** Alertmanager's order: active by end, then pending by start, then expired, most recently ended first. */
export function sortSilences(silences: AmGettableSilence[]): AmGettableSilence[] {
  return silences.sort((a, b) => {
    const sa = STATE_ORDER[a.status.state];
    const sb = STATE_ORDER[b.status.state];
    if (sa !== sb) return sa - sb;
    if (a.status.state === 'active') return Date.parse(a.endsAt) - Date.parse(b.endsAt);
    if (a.status.state === 'pending') return Date.parse(a.startsAt) - Date.parse(b.startsAt);
    return Date.parse(b.endsAt) - Date.parse(a.endsAt);
  });
}

function isLabels(v: unknown): v is Labels {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function time(v: unknown, field: string): number | null {
  if (v === undefined || v === null || v === '' || v === '0001-01-01T00:00:00Z' || v === '0001-01-01T00:00:00.000Z') return null;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new MatcherError(`${field}: expected an RFC 3339 time`);
  return ms;
}

/** Posted alerts → notifier alerts (Alertmanager's `api.v2.postAlertsHandler` defaults and checks). */
export function postedAlerts(body: unknown, now: number, resolveTimeoutMs: number): NotifyAlert[] {
  if (!Array.isArray(body)) throw new MatcherError('expected a JSON array of alerts');
  return body.map((a: unknown, i) => {
    if (!a || typeof a !== 'object') throw new MatcherError(`[${i}]: expected an alert object`);
    const p = a as { labels?: unknown; annotations?: unknown; startsAt?: unknown; endsAt?: unknown; generatorURL?: unknown };
    if (!isLabels(p.labels) || Object.keys(p.labels).length === 0) throw new MatcherError(`[${i}].labels: expected at least one label with a string value`);
    for (const name of Object.keys(p.labels)) if (!LABEL_NAME.test(name)) throw new MatcherError(`[${i}].labels: invalid label name ${JSON.stringify(name)}`);
    for (const [name, value] of Object.entries(p.labels)) if (value === '') throw new MatcherError(`[${i}].labels.${name}: empty label value`);
    if (p.annotations !== undefined && !isLabels(p.annotations)) throw new MatcherError(`[${i}].annotations: expected string values`);
    let startsAt = time(p.startsAt, `[${i}].startsAt`);
    let endsAt = time(p.endsAt, `[${i}].endsAt`);
    // Alertmanager: no start → now; no end → start + resolve timeout (or now + it, if that is later).
    if (startsAt === null) startsAt = endsAt !== null && endsAt < now ? endsAt : now;
    if (endsAt === null) endsAt = Math.max(now, startsAt) + resolveTimeoutMs;
    if (endsAt < startsAt) throw new MatcherError(`[${i}]: endsAt is before startsAt`);
    const labels = p.labels;
    return {
      fingerprint: fingerprint(labels),
      labels,
      annotations: (p.annotations as Labels | undefined) ?? {},
      startsAt,
      endsAt,
      generatorURL: typeof p.generatorURL === 'string' ? p.generatorURL : '',
      resolved: endsAt <= now,
    };
  });
}

/** Registers the Alertmanager API v2 routes. */
export function registerAlertmanagerApi(app: FastifyInstance, ctx: AlertmanagerApiContext): void {
  const now = ctx.now ?? Date.now;

  app.get('/api/v2/silences', { config: { access: 'read' } }, async (req, reply) => {
    let ms: Matcher[];
    try {
      ms = filters(req.query as Query);
    } catch (err) {
      return amError(reply, 400, (err as Error).message);
    }
    const silences = ctx.silences.list(now()).filter((s) => matchFilterLabels(ms, silenceLabels(s.matchers)));
    return sortSilences(silences);
  });

  app.post('/api/v2/silences', { config: { access: 'write', audited: true } }, async (req, reply) => {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return amError(reply, 400, 'expected a silence object {matchers, startsAt, endsAt, createdBy, comment}');
    try {
      const posted = req.body as AmPostableSilence;
      const id = await ctx.silences.upsert(posted, now());
      const s = ctx.silences.get(id, now());
      await auditChange(ctx.audit, req, posted.id ? 'silence.updated' : 'silence.created', `silence:${id}`, {
        ...(posted.id && posted.id !== id ? { replaced: posted.id } : {}),
        matchers: s?.matchers,
        startsAt: s?.startsAt,
        endsAt: s?.endsAt,
        createdBy: s?.createdBy,
        comment: s?.comment,
      });
      return { silenceID: id };
    } catch (err) {
      if (err instanceof SilenceNotFoundError) return amError(reply, 404, err.message);
      if (err instanceof SilenceInputError || err instanceof MatcherError) return amError(reply, 400, err.message);
      throw err;
    }
  });

  app.get('/api/v2/silence/:id', { config: { access: 'read' } }, async (req, reply) => {
    const s = ctx.silences.get((req.params as { id: string }).id, now());
    if (!s) return amError(reply, 404, 'silence not found');
    return s;
  });

  app.delete('/api/v2/silence/:id', { config: { access: 'write', audited: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    try {
      if (!(await ctx.silences.expire(id, now()))) return amError(reply, 404, 'silence not found');
      await auditChange(ctx.audit, req, 'silence.expired', `silence:${id}`);
    } catch (err) {
      if (err instanceof SilenceNotFoundError) return amError(reply, 404, err.message);
      if (err instanceof SilenceInputError) return amError(reply, 400, err.message);
      throw err;
    }
    return reply.code(200).send();
  });

  const selectAlerts = (q: Query): AmGettableAlert[] => {
    const ms = filters(q);
    const active = bool(q, 'active');
    const silenced = bool(q, 'silenced');
    const inhibited = bool(q, 'inhibited');
    const unprocessed = bool(q, 'unprocessed');
    const receiver = list(q, 'receiver')[0];
    const receiverRe = receiver ? compileMatcherRegex(receiver) : null;
    return ctx.alerts().filter((a) => {
      if (!active && a.status.state === 'active') return false;
      if (!unprocessed && a.status.state === 'unprocessed') return false;
      if (!silenced && a.status.silencedBy.length > 0) return false;
      if (!inhibited && a.status.inhibitedBy.length > 0) return false;
      if (receiverRe && !a.receivers.some((r) => receiverRe.test(r.name))) return false;
      return matchFilterLabels(ms, a.labels);
    });
  };

  app.get('/api/v2/alerts', { config: { access: 'read' } }, async (req, reply) => {
    try {
      return selectAlerts(req.query as Query).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
    } catch (err) {
      if (err instanceof MatcherError) return amError(reply, 400, err.message);
      throw err;
    }
  });

  app.get('/api/v2/alerts/groups', { config: { access: 'read' } }, async (req, reply) => {
    let alerts: AmGettableAlert[];
    try {
      alerts = selectAlerts(req.query as Query);
    } catch (err) {
      if (err instanceof MatcherError) return amError(reply, 400, err.message);
      throw err;
    }
    // Grouped per receiver by alertname: the notifier's own group keys are not part of its alert view.
    const groups = new Map<string, { labels: Labels; receiver: { name: string }; alerts: AmGettableAlert[] }>();
    for (const a of alerts) {
      for (const r of a.receivers) {
        const key = `${r.name}\u0000${a.labels.alertname ?? ''}`;
        const g = groups.get(key) ?? { labels: a.labels.alertname ? { alertname: a.labels.alertname } : {}, receiver: { name: r.name }, alerts: [] };
        g.alerts.push(a);
        groups.set(key, g);
      }
    }
    return [...groups.values()];
  });

  // Prometheus posts its alerts every minute: alerts are not configuration, and are not audited.
  app.post('/api/v2/alerts', { config: { access: 'write', audited: true } }, async (req, reply) => {
    let alerts: NotifyAlert[];
    try {
      alerts = postedAlerts(req.body, now(), ctx.resolveTimeoutMs);
    } catch (err) {
      if (err instanceof MatcherError) return amError(reply, 400, err.message);
      throw err;
    }
    if (alerts.length) ctx.accept(alerts);
    return reply.code(200).send();
  });

  app.get('/api/v2/status', { config: { access: 'read' } }, async (req) => ({
    cluster: { status: 'disabled', peers: [] },
    config: { original: ctx.configText(allows(req.principal, 'admin')) },
    uptime: new Date(ctx.startedAt).toISOString(),
    // amtool warns when its version differs from the server's: report the API level Vigil implements.
    versionInfo: { version: ALERTMANAGER_API_VERSION, revision: `vigil-${ctx.version}`, branch: 'vigil', buildUser: 'vigil', buildDate: '', goVersion: `node ${process.version}` },
  }));

  app.get('/api/v2/receivers', { config: { access: 'read' } }, async () => ctx.receivers().map((name) => ({ name })));
}

/** A silence's matchers as a name → value map (Alertmanager filters silences by it: `sms[m.Name] = m.Pattern`). */
function silenceLabels(matchers: readonly AmMatcher[]): Labels {
  return Object.fromEntries(matchers.map((m) => [m.name, m.value]));
}
