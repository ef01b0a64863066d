/**
 * Secrets of the notifications file — the fields Alertmanager itself treats as secret: webhook `url`,
 * Slack `api_url`, Teams `webhook_url`, SMTP `auth_password`, PagerDuty `routing_key`/`service_key`,
 * and `http_config` credentials (globally and per integration). At rest they are sealed
 * (`sealed:v1:…`, AES-GCM under the instance's key); read-only users see `<secret>`; a `<secret>`
 * posted back from such a view means "keep the current value". Text is edited through the `yaml`
 * document API, so comments and order survive.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document, type Scalar } from 'yaml';
import type { SecretBox } from '../../security/secrets.ts';
import type { ConfigError, HttpConfig, NotificationConfig, ParseResult } from './config.ts';

/** What a secret value looks like sealed. */
export const SEALED_PREFIX = 'sealed:v1:';
/** What a masked secret value reads. */
export const MASK = '<secret>';

/** A secret field whose value cannot be sealed, unsealed or kept. */
export class NotificationSecretError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

type Path = (string | number)[];

// Sealed values are long: no folding or rewrapping of flow maps, so lines (and error line numbers) stay put.
const KEEP_LINES = { lineWidth: 0 } as const;

const HTTP_SECRETS: Path[] = [['authorization', 'credentials'], ['bearer_token'], ['basic_auth', 'password']];

const INTEGRATION_SECRETS: Record<string, string[]> = {
  webhook_configs: ['url'],
  slack_configs: ['api_url'],
  msteams_configs: ['webhook_url'],
  email_configs: ['auth_password'],
  pagerduty_configs: ['routing_key', 'service_key'],
};

/** One secret value in a document: a key that survives reordering receivers, its path, its node. */
interface SecretNode {
  key: string;
  path: Path;
  node: Scalar;
}

/** Every secret scalar in a notifications document. */
function secretNodes(doc: Document): SecretNode[] {
  const out: SecretNode[] = [];
  const add = (key: string, path: Path) => {
    const n = doc.getIn(path, true);
    if (isScalar(n) && n.value !== null && n.value !== '') out.push({ key, path, node: n });
  };
  const http = (key: string, path: Path) => {
    for (const p of HTTP_SECRETS) add(`${key}.http_config.${p.join('.')}`, [...path, 'http_config', ...p]);
  };
  add('global.smtp_auth_password', ['global', 'smtp_auth_password']);
  add('global.slack_api_url', ['global', 'slack_api_url']);
  http('global', ['global']);
  const receivers = doc.getIn(['receivers'], true);
  if (!isSeq(receivers)) return out;
  receivers.items.forEach((r, i) => {
    if (!isMap(r)) return;
    // Receivers are keyed by name so that a masked value finds its current value after a reorder.
    const name = r.get('name');
    const rk = typeof name === 'string' ? `receivers[name=${JSON.stringify(name)}]` : `receivers[${i}]`;
    for (const [type, fields] of Object.entries(INTEGRATION_SECRETS)) {
      const list = r.get(type, true);
      if (!isSeq(list)) continue;
      list.items.forEach((_, j) => {
        const path: Path = ['receivers', i, type, j];
        for (const f of fields) add(`${rk}.${type}[${j}].${f}`, [...path, f]);
        http(`${rk}.${type}[${j}]`, path);
      });
    }
  });
  return out;
}

function parseOrThrow(text: string): Document {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) throw new NotificationSecretError('file', `cannot be read: ${doc.errors[0]!.message.split('\n')[0]}`);
  return doc;
}

const fieldOf = (path: Path) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** The text with every secret value replaced by `<secret>`, comments kept (for read-only users). */
export function maskSecrets(yamlText: string): string {
  const doc = parseDocument(yamlText, { prettyErrors: false, uniqueKeys: true });
  // A file that does not parse cannot be masked field by field: show none of it.
  if (doc.errors.length) return `# The notifications file has syntax errors; its text is shown to administrators only.\n`;
  for (const s of secretNodes(doc)) s.node.value = MASK;
  return doc.toString(KEEP_LINES);
}

/**
 * Seals every plaintext secret value (before the file is written). A value already sealed is kept as
 * it is when this box can open it; a `<secret>` left in the text is refused (merge it first).
 */
export function sealSecrets(yamlText: string, box: SecretBox): string {
  const doc = parseOrThrow(yamlText);
  let changed = false;
  for (const s of secretNodes(doc)) {
    const v = String(s.node.value);
    if (v === MASK) throw new NotificationSecretError(fieldOf(s.path), 'holds <secret> but there is no current value to keep');
    if (v.startsWith(SEALED_PREFIX)) {
      try {
        box.decrypt(v.slice('sealed:'.length));
      } catch {
        throw new NotificationSecretError(fieldOf(s.path), 'the sealed value cannot be opened with this instance\'s key');
      }
      continue;
    }
    s.node.value = `sealed:${box.encrypt(v)}`;
    // A sealed value is plain text; a quoted style would only add noise.
    s.node.type = 'PLAIN';
    changed = true;
  }
  return changed ? doc.toString(KEEP_LINES) : yamlText;
}

/**
 * Puts the current values back where the new text holds `<secret>` (a form saved from a masked view).
 * Secrets are matched by receiver name, integration type and index, so reordering receivers keeps them.
 */
export function mergeMaskedSecrets(newText: string, currentText: string): string {
  const doc = parseOrThrow(newText);
  const masked = secretNodes(doc).filter((s) => s.node.value === MASK);
  if (masked.length === 0) return newText;
  let current = new Map<string, unknown>();
  try {
    current = new Map(secretNodes(parseOrThrow(currentText)).map((s) => [s.key, s.node.value]));
  } catch {
    // The current file does not parse: nothing to keep; every <secret> is reported below.
  }
  for (const s of masked) {
    const v = current.get(s.key);
    if (v === undefined || v === MASK) throw new NotificationSecretError(fieldOf(s.path), 'holds <secret> but there is no current value to keep');
    s.node.value = v;
  }
  return doc.toString(KEEP_LINES);
}

/** `target[key] = value` only when the value is defined (optional fields stay absent). */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** Opens a value when it is sealed. */
function open(box: SecretBox, value: string | undefined, field: string, errors: ConfigError[], file: string, line: number | null): string | undefined {
  if (value === undefined || !value.startsWith(SEALED_PREFIX)) return value;
  try {
    return box.decrypt(value.slice('sealed:'.length));
  } catch (err) {
    errors.push({ file, line, field, message: (err as Error).message });
    return undefined;
  }
}

function checkUrl(value: string | undefined, field: string, errors: ConfigError[], file: string, line: number | null): void {
  if (value === undefined) return;
  let ok = false;
  try {
    const u = new URL(value);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  // Never echo the value: it is a secret.
  if (!ok) errors.push({ file, line, field, message: 'the sealed URL is not a valid http(s) URL' });
}

/**
 * The configuration with every sealed value opened (at load). Sealed URLs are checked once open; a
 * value that cannot be opened (another instance's key) is an error naming the field.
 */
export function unsealSecrets(config: NotificationConfig, box: SecretBox, file = 'alertmanager.yml'): ParseResult {
  const errors: ConfigError[] = [];
  const openHttp = (h: HttpConfig | undefined, field: string, line: number | null): HttpConfig | undefined => {
    if (!h) return h;
    const out: HttpConfig = { ...h };
    if (h.authorization) {
      out.authorization = { ...h.authorization };
      put(out.authorization, 'credentials', open(box, h.authorization.credentials, `${field}.http_config.authorization.credentials`, errors, file, line));
    }
    put(out, 'bearerToken', open(box, h.bearerToken, `${field}.http_config.bearer_token`, errors, file, line));
    if (h.basicAuth) {
      out.basicAuth = { ...h.basicAuth };
      put(out.basicAuth, 'password', open(box, h.basicAuth.password, `${field}.http_config.basic_auth.password`, errors, file, line));
    }
    return out;
  };
  const withHttp = <T extends { httpConfig?: HttpConfig }>(c: T, field: string, line: number | null): T => {
    const h = openHttp(c.httpConfig, field, line);
    return h ? { ...c, httpConfig: h } : c;
  };
  const g = config.global;
  const global = { ...g };
  put(global, 'smtpAuthPassword', open(box, g.smtpAuthPassword, 'global.smtp_auth_password', errors, file, null));
  put(global, 'slackApiUrl', open(box, g.slackApiUrl, 'global.slack_api_url', errors, file, null));
  const gh = openHttp(g.httpConfig, 'global', null);
  if (gh) global.httpConfig = gh;
  const receivers = config.receivers.map((r, i) => {
    const at = (type: string, j: number) => `receivers[${i}].${type}[${j}]`;
    return {
      ...r,
      webhookConfigs: r.webhookConfigs.map((c, j) => {
        const url = open(box, c.url, `${at('webhook_configs', j)}.url`, errors, file, r.line);
        if (c.url.startsWith(SEALED_PREFIX)) checkUrl(url, `${at('webhook_configs', j)}.url`, errors, file, r.line);
        return withHttp({ ...c, url: url ?? '' }, at('webhook_configs', j), r.line);
      }),
      slackConfigs: r.slackConfigs.map((c, j) => {
        const apiUrl = open(box, c.apiUrl, `${at('slack_configs', j)}.api_url`, errors, file, r.line);
        if (c.apiUrl.startsWith(SEALED_PREFIX)) checkUrl(apiUrl, `${at('slack_configs', j)}.api_url`, errors, file, r.line);
        return withHttp({ ...c, apiUrl: apiUrl ?? '' }, at('slack_configs', j), r.line);
      }),
      msteamsConfigs: r.msteamsConfigs.map((c, j) => {
        const webhookUrl = open(box, c.webhookUrl, `${at('msteams_configs', j)}.webhook_url`, errors, file, r.line);
        if (c.webhookUrl.startsWith(SEALED_PREFIX)) checkUrl(webhookUrl, `${at('msteams_configs', j)}.webhook_url`, errors, file, r.line);
        return withHttp({ ...c, webhookUrl: webhookUrl ?? '' }, at('msteams_configs', j), r.line);
      }),
      emailConfigs: r.emailConfigs.map((c, j) => {
        const out = { ...c };
        put(out, 'authPassword', open(box, c.authPassword, `${at('email_configs', j)}.auth_password`, errors, file, r.line));
        return out;
      }),
      pagerdutyConfigs: r.pagerdutyConfigs.map((c, j) => {
        const out = { ...c };
        put(out, 'routingKey', open(box, c.routingKey, `${at('pagerduty_configs', j)}.routing_key`, errors, file, r.line));
        put(out, 'serviceKey', open(box, c.serviceKey, `${at('pagerduty_configs', j)}.service_key`, errors, file, r.line));
        return withHttp(out, at('pagerduty_configs', j), r.line);
      }),
    };
  });
  if (errors.length) return { config: null, errors };
  return { config: { ...config, global, receivers }, errors: [] };
}
