/**
 * Sends a rendered action request through the outbound guard (every address checked, redirects
 * re-checked), within the action's time-out, keeping at most 4 KiB of the answer.
 */
import { guardedFetch, readBounded, type OutboundPolicy } from '../net/outbound.ts';
import type { RenderedRequest } from './actions.ts';

/** The answer is cut to this many bytes (timeline and API). */
export const MAX_RESULT_BYTES = 4096;

/** How a call went. */
export interface CallOutcome {
  ok: boolean;
  status: number | null;
  /** The answer's body (cut to 4 KiB) or what went wrong. */
  result: string;
  ms: number;
}

/** What a call needs besides the request. */
export interface CallOptions {
  policy: OutboundPolicy;
  timeoutMs: number;
  now?: () => number;
}

function failure(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'OutboundBlockedError') return `refused by the outbound policy: ${e.message}`;
  return e?.cause?.code ? `${e.message}: ${e.cause.code}` : e?.cause?.message ? `${e.message}: ${e.cause.message}` : String(e?.message ?? err);
}

/** Sends the request; never throws (a failure is an outcome with `ok: false`). */
export async function sendRequest(r: RenderedRequest, opts: CallOptions): Promise<CallOutcome> {
  const now = opts.now ?? Date.now;
  const started = now();
  const headers: Record<string, string> = { 'user-agent': 'Vigil-Remediation/1.0', ...r.headers };
  const hasBody = r.body !== '' && r.method !== 'GET';
  if (hasBody && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    let json = true;
    try {
      JSON.parse(r.body);
    } catch {
      json = false;
    }
    headers['content-type'] = json ? 'application/json' : 'text/plain; charset=utf-8';
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    // The whole call, answer included, within the time-out: the signal aborts the body read too.
    const { response, agent } = await guardedFetch(r.url, { method: r.method, headers, body: hasBody ? r.body : undefined, signal: timeout }, { policy: opts.policy, timeoutMs: opts.timeoutMs, maxRedirects: 3 });
    try {
      const text = await readBounded(response.body, MAX_RESULT_BYTES);
      const ok = response.status >= 200 && response.status < 300;
      return { ok, status: response.status, result: text, ms: now() - started };
    } finally {
      await agent.close().catch(() => undefined);
    }
  } catch (err) {
    const result = timeout.aborted ? `timed out after ${opts.timeoutMs / 1000} s` : failure(err);
    return { ok: false, status: null, result: result.slice(0, MAX_RESULT_BYTES), ms: now() - started };
  }
}
