/**
 * Splunk HEC receiver: `/services/collector/event` (and `/services/collector`), `/services/collector/raw`,
 * `/services/collector/health`, each also under `/1.0`. Replies use Splunk's JSON bodies and codes so
 * existing HEC clients read them as they would from Splunk. The accept path itself is shared with OTLP
 * (`../accept.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accept, EmptyBodyError, type DecodedBody, type Outcome } from '../accept.ts';
import type { ReceiverContext } from '../context.ts';
import { decodeHecEvents, decodeHecRaw, type HecEventError, type HecMeta } from './decode.ts';

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

/** Decodes an event or raw body; the first invalid event (Splunk keeps the ones before it) travels along. */
function decode(kind: Kind, bytes: Buffer, meta: HecMeta): DecodedBody<HecEventError> {
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new EmptyBodyError();
  if (kind === 'raw') return { batch: { logs: decodeHecRaw(text, meta), spans: [], metrics: [] }, rejected: 0, errors: [] };
  const { rows, error } = decodeHecEvents(text, meta);
  return { batch: { logs: rows, spans: [], metrics: [] }, rejected: 0, errors: [], extra: error };
}

async function handle(kind: Kind, req: FastifyRequest, reply: FastifyReply, ctx: ReceiverContext): Promise<void> {
  const outcome = await accept(ctx, req, { receiver: 'hec', signal: 'logs', scheme: 'Splunk', decode: (bytes) => decode(kind, bytes, queryMeta(req)) });
  const send = (status: number, body: Record<string, unknown>, reason?: string, retryAfter?: number) => {
    if (reason) ctx.metrics.rejected.inc({ signal: 'logs', receiver: 'hec', reason });
    ctx.metrics.requests.inc({ receiver: 'hec', code: String(status) });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  };
  const busy = { text: 'Server is busy', code: 9 };
  return answer(outcome);

  function answer(o: Outcome<HecEventError>): FastifyReply {
    switch (o.kind) {
      case 'unauthorized':
        if (o.reason === 'missing') return send(401, { text: 'Token is required', code: 2 }, 'unauthorized');
        if (o.reason === 'malformed') return send(401, { text: 'Invalid authorization', code: 3 }, 'unauthorized');
        return send(403, { text: 'Invalid token', code: 4 }, 'unauthorized');
      case 'refused': return send(o.status, { text: 'Invalid data format', code: 6, detail: o.message }, 'refused');
      case 'body': {
        const e = o.error;
        if (e.status === 503) return send(503, busy, 'busy', 1);
        if (e.status === 413) return send(413, { text: 'Content too large', code: 6, detail: e.message }, 'too_large');
        return send(e.status, { text: 'Invalid data format', code: 6, detail: e.message }, 'bad_body');
      }
      case 'empty': return send(400, { text: 'No data', code: 5 }, 'empty');
      case 'undecodable': return send(400, { text: 'Invalid data format', code: 6, detail: o.message }, 'undecodable');
      // Splunk has no 429: a token over its limit is "busy", as Splunk answers when it cannot take more.
      case 'rate_limited': return send(503, { ...busy, detail: `token over its ingest rate limit; retry in ${o.retryAfter} s` }, 'rate_limited', o.retryAfter);
      case 'queue_full': return send(503, busy, 'queue_full', o.retryAfter);
      case 'unstorable': return send(400, { text: 'Invalid data format', code: 6, detail: o.message }, 'unstorable');
      case 'unavailable': return send(503, { ...busy, detail: 'telemetry store unavailable' }, 'store_unavailable', 5);
      case 'accepted': {
        if (o.extra) return send(400, { text: o.extra.text, code: o.extra.code, 'invalid-event-number': o.extra.eventNumber }, 'invalid_item');
        // Splunk answers {text, code 0}; the extra keys, which its clients ignore, say what Vigil changed or dropped.
        const notes = [o.rejected > 0 ? `${o.rejected} event(s) rejected: ${o.reasons.join('; ')}` : '', o.warning].filter(Boolean);
        return send(200, notes.length > 0 ? { text: 'Success', code: 0, rejected: o.rejected, detail: notes.join('. ') } : { text: 'Success', code: 0 });
      }
    }
  }
}
