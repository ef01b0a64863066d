/**
 * Splunk HEC receiver: `/services/collector/event` (and `/services/collector`), `/services/collector/raw`,
 * `/services/collector/health`, each also under `/1.0`. Replies use Splunk's JSON bodies and codes so
 * existing HEC clients read them as they would from Splunk.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyError, readBody } from '../body.ts';
import { authenticateIngest, type ReceiverContext } from '../context.ts';
import { QueueFullError, RecordsRejectedError } from '../pipeline.ts';
import { validateBatch, type Verdict } from '../validate.ts';
import { decodeHecEvents, decodeHecRaw, type HecMeta } from './decode.ts';
import type { LogRow } from '../../model/telemetry.ts';

type Kind = 'event' | 'raw';

/** Registers the HEC routes on a Fastify instance. */
export function registerHecReceiver(app: FastifyInstance, ctx: ReceiverContext): void {
  for (const suffix of ['', '/1.0']) {
    app.post(`/services/collector${suffix}`, (req, reply) => handle('event', req, reply, ctx));
    app.post(`/services/collector/event${suffix}`, (req, reply) => handle('event', req, reply, ctx));
    app.post(`/services/collector/raw${suffix}`, (req, reply) => handle('raw', req, reply, ctx));
    app.get(`/services/collector/health${suffix}`, (_req, reply) => {
      if (ctx.pipeline.depth > 0 && ctx.budget.inUse > ctx.budget.limit * 0.9) {
        return reply.code(503).send({ text: 'Server is busy', code: 9 });
      }
      return reply.code(200).send({ text: 'HEC is healthy', code: 17 });
    });
  }
}

function queryMeta(req: FastifyRequest): HecMeta {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  return { host: s('host'), source: s('source'), sourcetype: s('sourcetype'), index: s('index') };
}

async function handle(kind: Kind, req: FastifyRequest, reply: FastifyReply, ctx: ReceiverContext): Promise<void> {
  const send = (status: number, body: Record<string, unknown>, reason?: string, retryAfter?: number) => {
    if (reason) ctx.metrics.rejected.inc({ signal: 'logs', receiver: 'hec', reason });
    ctx.metrics.requests.inc({ receiver: 'hec', code: String(status) });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  };

  const auth = await authenticateIngest(ctx, req.headers.authorization, 'Splunk');
  if (!auth.ok) {
    req.raw.resume();
    if (auth.reason === 'missing') return send(401, { text: 'Token is required', code: 2 }, 'unauthorized');
    if (auth.reason === 'malformed') return send(401, { text: 'Invalid authorization', code: 3 }, 'unauthorized');
    return send(403, { text: 'Invalid token', code: 4 }, 'unauthorized');
  }

  let body;
  try {
    body = await readBody(req.raw, { limit: ctx.maxBodyBytes, budget: ctx.budget });
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    if (err.status === 503) return send(503, { text: 'Server is busy', code: 9 }, 'busy', 1);
    if (err.status === 413) return send(413, { text: 'Content too large', code: 6, detail: err.message }, 'too_large');
    return send(err.status, { text: 'Invalid data format', code: 6, detail: err.message }, 'bad_body');
  }

  let rows: LogRow[];
  let error: { code: number; text: string; eventNumber: number } | undefined;
  try {
    const text = body.bytes.toString('utf8');
    if (text.trim() === '') return send(400, { text: 'No data', code: 5 }, 'empty');
    if (kind === 'raw') rows = decodeHecRaw(text, queryMeta(req));
    else ({ rows, error } = decodeHecEvents(text, queryMeta(req)));
  } finally {
    body.release();
  }

  // Splunk answers an accepted batch with {text, code 0}; the extra keys say what Vigil changed or dropped.
  let verdict: Verdict | undefined;
  if (rows.length > 0) {
    const batch = { logs: rows, spans: [], metrics: [] };
    verdict = validateBatch(batch, BigInt(Date.now()) * 1_000_000n, ctx.limits);
    rows = batch.logs;
    if (verdict.rejected > 0) ctx.metrics.rejected.inc({ signal: 'logs', receiver: 'hec', reason: 'invalid_item' }, verdict.rejected);
  }
  if (rows.length > 0) {
    const wait = ctx.limiter.take(auth.token, rows.length, auth.rateLimit, Date.now());
    if (wait > 0) return send(503, { text: 'Server is busy', code: 9, detail: `token over its ingest rate limit; retry in ${wait} s` }, 'rate_limited', wait);
    try {
      await ctx.pipeline.submit({ logs: rows, spans: [], metrics: [] });
    } catch (err) {
      if (err instanceof QueueFullError) return send(503, { text: 'Server is busy', code: 9 }, 'queue_full', err.retryAfterSeconds);
      if (err instanceof RecordsRejectedError) return send(400, { text: 'Invalid data format', code: 6, detail: err.message }, 'unstorable');
      return send(503, { text: 'Server is busy', code: 9, detail: 'telemetry store unavailable' }, 'store_unavailable', 5);
    }
    ctx.metrics.accepted.inc({ signal: 'logs', receiver: 'hec' }, rows.length);
  }
  if (error) {
    return send(400, { text: error.text, code: error.code, 'invalid-event-number': error.eventNumber }, 'invalid_item');
  }
  const notes = verdict ? [verdict.rejected > 0 ? `${verdict.rejected} event(s) rejected: ${verdict.reasons.join('; ')}` : '', verdict.warning].filter(Boolean) : [];
  return send(200, notes.length > 0 ? { text: 'Success', code: 0, rejected: verdict!.rejected, detail: notes.join('. ') } : { text: 'Success', code: 0 });
}
