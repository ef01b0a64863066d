/**
 * Remediation actions as the API takes and shows them, and the request a run sends: validation of
 * `RemediationActionInput` (templates must be understood and name only declared inputs), sealing of
 * secret header values at rest and masking in every answer, and rendering of the request from the
 * incident and the responder's input with the alerting template engine (Go-template subset).
 *
 * Secret headers are those whose names carry credentials (`Authorization`, `Cookie`, any name with
 * token, key, secret, auth, session, password or credential — the outbound guard's own definition):
 * sealed as `sealed:v1:…` like the notification secrets, shown as `<secret>` to everyone, and a
 * `<secret>` sent back on update keeps the current value.
 */
import type { ActionPreview, RemediationAction, RemediationActionInput } from '../api/contract.ts';
import { expandTemplate } from '../alerting/template.ts';
import { MASK, SEALED_PREFIX } from '../alerting/notify/secrets.ts';
import type { IncidentView } from '../incidents/reducer.ts';
import { isCredentialHeader } from '../net/outbound.ts';
import type { SecretBox } from '../security/secrets.ts';
import type { ActionRecord, ActionWrite } from '../store/state/actions.ts';
import { RemediationInputError } from './errors.ts';

/** Action names: kebab-case, `recreate-index`. */
export const ACTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Input names: identifiers, so that `{{ .Input.name }}` reaches them. */
export const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const METHODS: readonly RemediationAction['method'][] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const MAX_URL = 2000;
const MAX_HEADER_VALUE = 4000;
const MAX_HEADERS = 30;
const MAX_BODY = 64 * 1024;
const MAX_INPUTS = 20;
const MAX_INPUT_VALUE = 2000;
const MAX_SERVICES = 50;
const DEFAULT_TIMEOUT_SECONDS = 10;
const MAX_TIMEOUT_SECONDS = 120;

/** An action as validated: every field present. */
export type ActionInput = Required<RemediationActionInput>;

/** The request a run sends (secret values in clear: never shown, only sent). */
export interface RenderedRequest extends ActionPreview {
  /** Header names whose values are secret (masked in the preview). */
  secretHeaders: string[];
}

/** Whether a header's value is secret. */
export const isSecretHeader = (name: string): boolean => isCredentialHeader(name);

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RemediationInputError(field, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string, max: number, required = false): string {
  if (v === undefined || v === null) {
    if (required) throw new RemediationInputError(field, 'is required');
    return '';
  }
  if (typeof v !== 'string') throw new RemediationInputError(field, 'expected a string');
  if (required && v.trim() === '') throw new RemediationInputError(field, 'must not be empty');
  if (v.length > max) throw new RemediationInputError(field, `at most ${max} characters`);
  return v;
}

function stringMap(v: unknown, field: string, max: number, keyOk: (k: string) => boolean, keyHint: string, maxValue: number): Record<string, string> {
  if (v === undefined || v === null) return {};
  const o = object(v, field);
  const entries = Object.entries(o);
  if (entries.length > max) throw new RemediationInputError(field, `at most ${max} entries`);
  const out: Record<string, string> = {};
  for (const [k, x] of entries) {
    if (!keyOk(k)) throw new RemediationInputError(`${field}.${k.slice(0, 60)}`, keyHint);
    out[k] = string(x, `${field}.${k}`, maxValue);
  }
  return out;
}

/** Sample data that every template must render with: what a run will have, with placeholder values. */
function sampleData(inputs: Record<string, string>) {
  return templateFields({ id: 1, title: 'title', severity: 'SEV3', status: 'investigating', services: ['service'], systems: ['system'], url: 'http://vigil.example/incidents/1' }, Object.fromEntries(Object.keys(inputs).map((k) => [k, 'x'])));
}

/** Refuses a template that uses an action the engine does not understand or an undeclared input. */
function checkTemplate(text: string, field: string, inputs: Record<string, string>): string {
  for (const m of text.matchAll(/\{\{[\s\S]*?\}\}/g)) {
    for (const ref of m[0].matchAll(/\.Input\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!Object.hasOwn(inputs, ref[1]!)) throw new RemediationInputError(field, `uses .Input.${ref[1]} but the action declares no such input (inputs: ${Object.keys(inputs).join(', ') || 'none'})`);
    }
  }
  const rendered = expandTemplate(text, { labels: {}, value: null, fields: sampleData(inputs) });
  const left = /\{\{[\s\S]*?\}\}/.exec(rendered);
  if (left) throw new RemediationInputError(field, `${left[0].slice(0, 80)} is not understood: use .Incident.ID, .Incident.Title, .Incident.Severity, .Incident.Status, .Incident.Services, .Incident.Systems, .Incident.URL or .Input.<name>, with urlquery, toJson, printf, toUpper, toLower`);
  return rendered;
}

/** Whether a URL may be called: http(s), without credentials in it (they belong in a secret header). */
function urlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'is not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http or https URL';
  if (u.username || u.password) return 'must not carry credentials: put them in a secret header such as Authorization';
  return undefined;
}

/** Validates an action as posted. */
export function parseActionInput(body: unknown): ActionInput {
  const b = object(body, 'body');
  const name = string(b.name, 'name', 63, true).trim();
  if (!ACTION_NAME.test(name)) throw new RemediationInputError('name', 'expected kebab-case such as restart-api (lower-case letters, digits and dashes)');
  const description = string(b.description, 'description', 1000).trim();
  const method = b.method ?? 'POST';
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) throw new RemediationInputError('method', `expected one of ${METHODS.join(', ')}`);
  const inputs = stringMap(b.inputs, 'inputs', MAX_INPUTS, (k) => INPUT_NAME.test(k), 'input names are identifiers such as service or reason', 500);
  const url = string(b.url, 'url', MAX_URL, true).trim();
  const sampleUrl = checkTemplate(url, 'url', inputs);
  const why = urlProblem(sampleUrl);
  if (why) throw new RemediationInputError('url', why);
  const headers = stringMap(b.headers, 'headers', MAX_HEADERS, (k) => HEADER_NAME.test(k), 'not a valid header name', MAX_HEADER_VALUE);
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n]/.test(v)) throw new RemediationInputError(`headers.${k}`, 'must be one line');
    // A masked or sealed secret is checked when it is sealed; its text is not a template to check here.
    if (!(isSecretHeader(k) && (v === MASK || v.startsWith(SEALED_PREFIX)))) checkTemplate(v, `headers.${k}`, inputs);
  }
  const text = string(b.body, 'body', MAX_BODY);
  checkTemplate(text, 'body', inputs);
  const servicesRaw = b.services ?? [];
  if (!Array.isArray(servicesRaw) || servicesRaw.some((s) => typeof s !== 'string' || s.trim() === '' || s.length > 200)) throw new RemediationInputError('services', 'expected a list of service names');
  if (servicesRaw.length > MAX_SERVICES) throw new RemediationInputError('services', `at most ${MAX_SERVICES} services`);
  const timeoutSeconds = b.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new RemediationInputError('timeoutSeconds', `expected a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}`);
  }
  return {
    name,
    description,
    method: method as RemediationAction['method'],
    url,
    headers,
    body: text,
    inputs,
    services: [...new Set((servicesRaw as string[]).map((s) => s.trim()))],
    timeoutSeconds,
  };
}

/**
 * Seals the secret header values for storage. `<secret>` keeps the current (sealed) value of that
 * header; a value already sealed is kept when this instance's key opens it.
 */
export function sealHeaders(headers: Record<string, string>, box: SecretBox, current: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!isSecretHeader(k)) {
      out[k] = v;
      continue;
    }
    if (v === MASK) {
      // Header names are case-insensitive: a form may send back another spelling.
      const kept = Object.entries(current).find(([c]) => c.toLowerCase() === k.toLowerCase())?.[1];
      if (kept === undefined || !kept.startsWith(SEALED_PREFIX)) throw new RemediationInputError(`headers.${k}`, 'holds <secret> but there is no current value to keep');
      out[k] = kept;
    } else if (v.startsWith(SEALED_PREFIX)) {
      try {
        box.decrypt(v.slice('sealed:'.length));
      } catch {
        throw new RemediationInputError(`headers.${k}`, "the sealed value cannot be opened with this instance's key");
      }
      out[k] = v;
    } else {
      out[k] = `sealed:${box.encrypt(v)}`;
    }
  }
  return out;
}

/** Secret header values replaced by `<secret>`. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretHeader(k) ? MASK : v]));
}

/** A validated action as the store keeps it (secrets sealed). */
export function actionWrite(input: ActionInput, box: SecretBox, actor: string, now: number, current?: ActionRecord): ActionWrite {
  const { timeoutSeconds, headers, ...rest } = input;
  return { ...rest, headers: sealHeaders(headers, box, current?.headers), timeoutMs: Math.round(timeoutSeconds * 1000), updatedAt: now, updatedBy: actor };
}

/** A stored action as the API shows it (secret header values masked). */
export function actionEntry(a: ActionRecord): RemediationAction {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    method: a.method,
    url: a.url,
    headers: maskHeaders(a.headers),
    body: a.body,
    inputs: a.inputs,
    services: a.services,
    timeoutSeconds: a.timeoutMs / 1000,
    updatedAt: new Date(a.updatedAt).toISOString(),
    updatedBy: a.updatedBy,
  };
}

/** What templates see of an incident. */
export interface IncidentTemplateView {
  id: number;
  title: string;
  severity: string;
  status: string;
  services: readonly string[];
  systems: readonly string[];
  url: string;
}

/** The incident's view as templates see it. */
export function incidentTemplateView(id: number, v: IncidentView, url: string): IncidentTemplateView {
  return { id, title: v.title, severity: v.severity, status: v.status, services: v.services, systems: v.systems, url };
}

/**
 * Template data: `{Incident: {ID, Title, Severity, Status, Services, Systems, URL}, Input: {...}}`.
 * Services and Systems are comma-separated (`rms-api,lms-api`), ready for a URL or a header.
 */
export function templateFields(i: IncidentTemplateView, input: Record<string, string>): Record<string, unknown> {
  return {
    Incident: { ID: i.id, Title: i.title, Severity: i.severity, Status: i.status, Services: i.services.join(','), Systems: i.systems.join(','), URL: i.url },
    Input: { ...input },
  };
}

/**
 * The responder's input checked against the action's declared inputs: an unknown name is refused
 * naming the field; a declared input left out is empty.
 */
export function checkRunInput(a: Pick<ActionRecord, 'name' | 'inputs'>, input: unknown): Record<string, string> {
  if (input === undefined || input === null) input = {};
  const o = object(input, 'input');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!Object.hasOwn(a.inputs, k)) throw new RemediationInputError(`input.${k.slice(0, 60)}`, `action ${a.name} has no such input (inputs: ${Object.keys(a.inputs).join(', ') || 'none'})`);
    out[k] = string(v, `input.${k}`, MAX_INPUT_VALUE);
  }
  for (const k of Object.keys(a.inputs)) out[k] ??= '';
  return out;
}

/**
 * Renders the request of a run: URL, headers (secret ones opened) and body from the templates. A URL
 * that does not render to an http(s) URL, or a header that renders across lines, is refused.
 */
export function renderRequest(a: ActionRecord, fields: Record<string, unknown>, box: SecretBox): RenderedRequest {
  const data = { labels: {}, value: null, fields };
  const url = expandTemplate(a.url, data).trim();
  const why = urlProblem(url);
  if (why) throw new RemediationInputError('url', `renders to "${url.slice(0, 200)}", which ${why}`);
  const headers: Record<string, string> = {};
  const secretHeaders: string[] = [];
  for (const [k, v] of Object.entries(a.headers)) {
    let template = v;
    if (isSecretHeader(k)) {
      secretHeaders.push(k);
      if (v.startsWith(SEALED_PREFIX)) template = box.decrypt(v.slice('sealed:'.length));
    }
    const value = expandTemplate(template, data);
    if (/[\r\n]/.test(value)) throw new RemediationInputError(`headers.${k}`, 'renders to a value with a line break');
    headers[k] = value;
  }
  const body = a.method === 'GET' ? '' : expandTemplate(a.body, data);
  return { method: a.method, url, headers, body, secretHeaders };
}

/** The request as shown for confirmation and on answers: secret header values masked. */
export function previewOf(r: RenderedRequest): ActionPreview {
  const secret = new Set(r.secretHeaders);
  return { method: r.method, url: r.url, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, secret.has(k) ? MASK : v])), body: r.body };
}
