/**
 * HTTP(S) checks through the outbound guard: status codes, keyword present/absent, JSON assertions,
 * a response-time budget (over it: degraded) and certificate expiry (within the warning: degraded).
 */
import { guardedFetch, readBounded, type OutboundPolicy } from '../net/outbound.ts';
import { parseDuration } from '../config/config.ts';
import { getPath } from './json-path.ts';
import { recordPhases, type PhaseRecorder } from './phases.ts';
import { isSecretPath } from './secrets.ts';
import { assertResolvable, down, errorMessage, noPhases, round, type CheckContext, type CheckResult, type CheckStatus, type Phases } from './result.ts';
import type { Expectations, HttpSpec } from './spec.ts';

// Keyword and JSON checks look at the start of the body only; a monitor is not a download.
const MAX_BODY_BYTES = 1024 * 1024;

/** One HTTP request of a check. */
export interface HttpRequestSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Record<string, unknown> | unknown[];
}

/** What came back from one request. */
export interface HttpExchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  redirects: string[];
  latencyMs: number;
  phases: Phases;
  certificate?: { validTo: string; subject: string; issuer: string };
}

/** Sends one request through the guard, recording phases and the server certificate. */
export async function httpExchange(
  req: HttpRequestSpec,
  opts: { policy: OutboundPolicy; timeoutMs: number; insecureTls: boolean; maxRedirects: number },
): Promise<HttpExchange> {
  const started = performance.now();
  const url = new URL(req.url);
  assertResolvable(url.hostname);
  const headers: Record<string, string> = { 'user-agent': 'vigil-monitor/1.0', ...req.headers };
  if (url.username || url.password) {
    // fetch refuses URLs with credentials; send them as Basic authentication, as curl and browsers do,
    // so they are a credential header the guard drops on a redirect to another origin.
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  let body: string | undefined;
  if (typeof req.body === 'string') body = req.body;
  else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const { recorder, result } = recordPhases(async () => {
    const { response, redirects, agent } = await guardedFetch(url, { method: req.method, headers, body, signal }, {
      policy: opts.policy,
      insecureTls: opts.insecureTls,
      maxRedirects: opts.maxRedirects,
      timeoutMs: opts.timeoutMs,
    });
    try {
      const text = await readBounded(response.body, MAX_BODY_BYTES);
      return { status: response.status, headers: Object.fromEntries(response.headers), body: text, redirects };
    } finally {
      await agent.close();
    }
  });
  try {
    const r = await result;
    const latencyMs = round(performance.now() - started);
    return { ...r, latencyMs, phases: phasesOf(recorder, started), certificate: certificateOf(recorder) };
  } catch (err) {
    if (signal.aborted) throw new Error(`timed out after ${opts.timeoutMs} ms`, { cause: err });
    throw err;
  }
}


function phasesOf(r: PhaseRecorder, started: number): Phases {
  const ms = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? round(Math.max(0, b - a)) : null);
  const connectStart = r.lookupAt ?? r.socketAt ?? r.beforeConnectAt;
  return {
    dnsMs: ms(r.socketAt, r.lookupAt),
    connectMs: ms(connectStart, r.connectAt),
    tlsMs: r.secureAt !== undefined && r.connectAt !== undefined && r.secureAt >= r.connectAt ? ms(r.connectAt, r.secureAt) : null,
    firstByteMs: ms(started, r.headersAt),
  };
}

function certificateOf(r: PhaseRecorder): HttpExchange['certificate'] {
  const c = r.certificate;
  if (!c || !c.valid_to) return undefined;
  const name = (x: unknown) => (x && typeof x === 'object' ? String((x as Record<string, unknown>).CN ?? '') : '');
  return { validTo: new Date(c.valid_to).toISOString(), subject: name(c.subject), issuer: name(c.issuer) };
}

/** Why a response fails its expectations: `problems` make it down, `warnings` degraded. */
export interface Verdict {
  status: CheckStatus;
  problems: string[];
  warnings: string[];
}

/** Judges one exchange against the expectations; pure. */
export function judge(ex: Pick<HttpExchange, 'status' | 'body' | 'latencyMs' | 'certificate'>, expect: Expectations, opts: { now: Date; expiryWarningDays?: number }): Verdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  const okStatus = expect.status ? expect.status.includes(ex.status) : ex.status >= 200 && ex.status < 400;
  if (!okStatus) problems.push(`status ${ex.status}, expected ${expect.status ? expect.status.join(' or ') : '2xx or 3xx'}`);
  if (expect.keyword !== undefined && !ex.body.includes(expect.keyword)) problems.push(`keyword "${expect.keyword}" not found`);
  if (expect.keywordAbsent !== undefined && ex.body.includes(expect.keywordAbsent)) problems.push(`keyword "${expect.keywordAbsent}" found`);
  if (expect.json.length > 0) {
    let doc: unknown;
    try {
      doc = JSON.parse(ex.body);
    } catch {
      problems.push('body is not JSON');
    }
    if (doc !== undefined) for (const a of expect.json) {
      const v = getPath(doc, a.path);
      if (a.exists === false) {
        if (v !== undefined) problems.push(`${a.path} exists`);
        continue;
      }
      // Messages land in results, state history and searchable logs: at a secret-looking path neither
      // the value found nor the one expected is quoted, elsewhere the value found is cut short.
      const secret = isSecretPath(a.path);
      if (v === undefined) problems.push(`${a.path} is missing`);
      else if (a.equals !== undefined && v !== a.equals && String(v) !== String(a.equals)) {
        problems.push(secret ? `${a.path} does not equal the expected value (values not shown: the path looks secret)` : `${a.path} is ${quote(v)}, expected ${JSON.stringify(a.equals)}`);
      } else if (a.contains !== undefined && !(typeof v === 'string' ? v : JSON.stringify(v)).includes(a.contains)) {
        problems.push(secret ? `${a.path} does not contain the expected text (not shown: the path looks secret)` : `${a.path} does not contain "${a.contains}"`);
      }
    }
  }
  if (expect.maxResponseTime !== undefined && ex.latencyMs > parseDuration(expect.maxResponseTime)) {
    warnings.push(`response took ${Math.round(ex.latencyMs)} ms, over ${expect.maxResponseTime}`);
  }
  if (ex.certificate && opts.expiryWarningDays !== undefined) {
    const days = Math.floor((Date.parse(ex.certificate.validTo) - opts.now.getTime()) / 86_400_000);
    if (days < 0) warnings.push(`certificate expired ${-days} day(s) ago`);
    else if (days < opts.expiryWarningDays) warnings.push(`certificate expires in ${days} day(s)`);
  }
  return { status: problems.length ? 'down' : warnings.length ? 'degraded' : 'up', problems, warnings };
}

const MAX_QUOTED = 80;

function quote(v: unknown): string {
  const text = JSON.stringify(v);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

/** Checks an HTTP(S) endpoint. */
export async function checkHttp(spec: HttpSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let ex: HttpExchange;
  try {
    ex = await httpExchange(spec, {
      policy: ctx.policy,
      timeoutMs: ctx.timeoutMs,
      insecureTls: spec.tls.insecure,
      maxRedirects: spec.followRedirects ? spec.maxRedirects : 0,
    });
  } catch (err) {
    return down(performance.now() - started, errorMessage(err), noPhases(), { url: spec.url });
  }
  const v = judge(ex, spec.expect, { now: ctx.now(), expiryWarningDays: spec.tls.expiryWarningDays });
  const details: Record<string, unknown> = { url: spec.url, statusCode: ex.status };
  if (ex.redirects.length) details.redirects = ex.redirects;
  if (ex.certificate) details.certificate = ex.certificate;
  if (v.warnings.length) details.warnings = v.warnings;
  const error = v.problems.length ? v.problems.join('; ') : v.warnings.length ? v.warnings.join('; ') : undefined;
  return { ok: v.status !== 'down', status: v.status, latencyMs: ex.latencyMs, phases: ex.phases, ...(error ? { error } : {}), details };
}
