/**
 * OTLP/HTTP receiver (OTLP 1.x): POST /v1/{traces,metrics,logs}, protobuf or JSON, optionally gzip.
 * Answers in the request's encoding: an empty response, or `partial_success` when some items were
 * rejected; a google.rpc.Status body on failure (400, 401, 413, 415, 429/503 with Retry-After).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyError, readBody } from '../body.ts';
import { authenticateIngest, type ReceiverContext } from '../context.ts';
import { QueueFullError, RecordsRejectedError } from '../pipeline.ts';
import { validateBatch } from '../validate.ts';
import { decodeLogsWire, decodeTracesWire } from './wire.ts';
import { decodeOtlp, encodeOtlpResponse, encodeOtlpStatus, OtlpDecodeError, type OtlpEncoding, type OtlpSignal } from './decode.ts';

const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

// gRPC status codes used in the Status body, as the OTLP/HTTP spec asks.
const GRPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAUTHENTICATED: 16, UNAVAILABLE: 14 } as const;

/** Registers the OTLP routes on a Fastify instance. */
export function registerOtlpReceiver(app: FastifyInstance, ctx: ReceiverContext): void {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    app.post(`/v1/${signal}`, (req, reply) => handle(signal, req, reply, ctx));
  }
}

async function handle(signal: OtlpSignal, req: FastifyRequest, reply: FastifyReply, ctx: ReceiverContext): Promise<void> {
  const encoding = encodingOf(req.headers['content-type']);
  // Errors about the content type itself are answered in JSON: the client's encoding is unknown.
  const replyEncoding = encoding ?? 'json';
  const fail = (status: number, grpc: number, message: string, reason: string, retryAfter?: number) => {
    ctx.metrics.rejected.inc({ signal, receiver: 'otlp', reason });
    ctx.metrics.requests.inc({ receiver: 'otlp', code: String(status) });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(status).type(CONTENT_TYPES[replyEncoding]).send(encodeOtlpStatus(grpc, message, replyEncoding));
  };

  const auth = await authenticateIngest(ctx, req.headers.authorization, 'Bearer');
  if (!auth.ok) {
    req.raw.resume();
    const message = auth.reason === 'missing' ? 'missing Authorization header: send "Authorization: Bearer <ingest token>"' : auth.reason === 'malformed' ? 'Authorization header must be "Bearer <token>"' : 'invalid or revoked token';
    return fail(401, GRPC.UNAUTHENTICATED, message, 'unauthorized');
  }
  if (!encoding) {
    req.raw.resume();
    const got = req.headers['content-type'] ?? '(none)';
    return fail(415, GRPC.INVALID_ARGUMENT, `unsupported Content-Type "${String(got).slice(0, 60)}": use application/x-protobuf or application/json`, 'content_type');
  }

  let body;
  try {
    body = await readBody(req.raw, { limit: ctx.maxBodyBytes, budget: ctx.budget });
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    const grpc = err.status === 503 ? GRPC.UNAVAILABLE : err.status === 413 ? GRPC.RESOURCE_EXHAUSTED : GRPC.INVALID_ARGUMENT;
    // Memory budget exhausted is backpressure, like a full queue: retryable 429.
    if (err.status === 503) return fail(429, grpc, err.message, 'busy', 1);
    return fail(err.status, grpc, err.message, err.status === 413 ? 'too_large' : 'bad_body');
  }
  ctx.metrics.inflightBytes.set(ctx.budget.inUse);
  try {
    if (body.bytes.length === 0) return fail(400, GRPC.INVALID_ARGUMENT, 'request body is empty', 'empty');
    let decoded;
    try {
      decoded =
        encoding === 'protobuf' && signal === 'logs' ? decodeLogsWire(body.bytes)
        : encoding === 'protobuf' && signal === 'traces' ? decodeTracesWire(body.bytes)
        : decodeOtlp(signal, body.bytes, encoding);
    } catch (err) {
      if (err instanceof OtlpDecodeError) return fail(400, GRPC.INVALID_ARGUMENT, err.message, 'undecodable');
      throw err;
    } finally {
      // The decoded rows no longer need the raw bytes.
      body.release();
      ctx.metrics.inflightBytes.set(ctx.budget.inUse);
    }
    const verdict = validateBatch(decoded.batch, BigInt(Date.now()) * 1_000_000n, ctx.limits);
    const rejected = decoded.rejected + verdict.rejected;
    const accepted = decoded.batch.logs.length + decoded.batch.spans.length + decoded.batch.metrics.length;
    const wait = ctx.limiter.take(auth.token, accepted, auth.rateLimit, Date.now());
    if (wait > 0) return fail(429, GRPC.RESOURCE_EXHAUSTED, `token "${auth.token}" is over its ingest rate limit; retry in ${wait} s`, 'rate_limited', wait);
    try {
      await ctx.pipeline.submit(decoded.batch);
    } catch (err) {
      if (err instanceof QueueFullError) return fail(429, GRPC.RESOURCE_EXHAUSTED, 'ingest queue is full, retry later', 'queue_full', err.retryAfterSeconds);
      if (err instanceof RecordsRejectedError) return fail(400, GRPC.INVALID_ARGUMENT, err.message, 'unstorable');
      return fail(503, GRPC.UNAVAILABLE, (err as Error).message, 'store_unavailable', 5);
    }
    ctx.metrics.accepted.inc({ signal, receiver: 'otlp' }, accepted);
    if (rejected > 0) ctx.metrics.rejected.inc({ signal, receiver: 'otlp', reason: 'invalid_item' }, rejected);
    ctx.metrics.requests.inc({ receiver: 'otlp', code: '200' });
    const message = [rejected > 0 ? `${rejected} item(s) rejected: ${[...decoded.errors, ...verdict.reasons].join('; ')}` : '', verdict.warning]
      .filter(Boolean)
      .join('. ');
    return reply.code(200).type(CONTENT_TYPES[encoding]).send(encodeOtlpResponse(signal, rejected, message, encoding));
  } finally {
    body.release();
  }
}
