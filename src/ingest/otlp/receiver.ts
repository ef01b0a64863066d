/**
 * OTLP/HTTP receiver (OTLP 1.x): POST /v1/{traces,metrics,logs}, protobuf or JSON, optionally gzip.
 * Answers in the request's encoding: an empty response, or `partial_success` when some items were
 * rejected (or, with a zero count, a warning); a google.rpc.Status body on failure (400, 401, 413, 415,
 * 429/503 with Retry-After). The accept path itself is shared with HEC (`../accept.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accept, UndecodableError, type DecodedBody, type Outcome } from '../accept.ts';
import type { ReceiverContext } from '../context.ts';
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

const UNAUTHORIZED = {
  missing: 'missing Authorization header: send "Authorization: Bearer <ingest token>"',
  malformed: 'Authorization header must be "Bearer <token>"',
  invalid: 'invalid or revoked token',
} as const;

/** Registers the OTLP routes on a Fastify instance. */
export function registerOtlpReceiver(app: FastifyInstance, ctx: ReceiverContext): void {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    app.post(`/v1/${signal}`, (req, reply) => handle(signal, req, reply, ctx));
  }
}

function decode(signal: OtlpSignal, encoding: OtlpEncoding, bytes: Buffer): DecodedBody {
  try {
    return encoding === 'protobuf' && signal === 'logs' ? decodeLogsWire(bytes)
      : encoding === 'protobuf' && signal === 'traces' ? decodeTracesWire(bytes)
      : decodeOtlp(signal, bytes, encoding);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new UndecodableError(err.message);
    throw err;
  }
}

async function handle(signal: OtlpSignal, req: FastifyRequest, reply: FastifyReply, ctx: ReceiverContext): Promise<void> {
  const encoding = encodingOf(req.headers['content-type']);
  const outcome = await accept(ctx, req, {
    receiver: 'otlp',
    signal,
    scheme: 'Bearer',
    precheck: () => (encoding ? undefined : `unsupported Content-Type "${String(req.headers['content-type'] ?? '(none)').slice(0, 60)}": use application/x-protobuf or application/json`),
    decode: (bytes) => decode(signal, encoding!, bytes),
  });
  // Errors about the content type itself are answered in JSON: the client's encoding is unknown.
  const replyEncoding = encoding ?? 'json';
  const status = (code: number, grpc: number, message: string, reason: string, retryAfter?: number) => {
    ctx.metrics.rejected.inc({ signal, receiver: 'otlp', reason });
    ctx.metrics.requests.inc({ receiver: 'otlp', code: String(code) });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(code).type(CONTENT_TYPES[replyEncoding]).send(encodeOtlpStatus(grpc, message, replyEncoding));
  };
  return answer(outcome);

  function answer(o: Outcome): FastifyReply {
    switch (o.kind) {
      case 'unauthorized': return status(401, GRPC.UNAUTHENTICATED, UNAUTHORIZED[o.reason], 'unauthorized');
      case 'refused': return status(o.status, GRPC.INVALID_ARGUMENT, o.message, 'content_type');
      case 'body': {
        const e = o.error;
        // Memory budget exhausted is backpressure, like a full queue: retryable 429.
        if (e.status === 503) return status(429, GRPC.UNAVAILABLE, e.message, 'busy', 1);
        return status(e.status, e.status === 413 ? GRPC.RESOURCE_EXHAUSTED : GRPC.INVALID_ARGUMENT, e.message, e.status === 413 ? 'too_large' : 'bad_body');
      }
      case 'empty': return status(400, GRPC.INVALID_ARGUMENT, 'request body is empty', 'empty');
      case 'undecodable': return status(400, GRPC.INVALID_ARGUMENT, o.message, 'undecodable');
      case 'rate_limited': return status(429, GRPC.RESOURCE_EXHAUSTED, `token "${o.token}" is over its ingest rate limit; retry in ${o.retryAfter} s`, 'rate_limited', o.retryAfter);
      case 'queue_full': return status(429, GRPC.RESOURCE_EXHAUSTED, 'ingest queue is full, retry later', 'queue_full', o.retryAfter);
      case 'unstorable': return status(400, GRPC.INVALID_ARGUMENT, o.message, 'unstorable');
      case 'unavailable': return status(503, GRPC.UNAVAILABLE, o.message, 'store_unavailable', 5);
      case 'accepted': {
        ctx.metrics.requests.inc({ receiver: 'otlp', code: '200' });
        const message = [o.rejected > 0 ? `${o.rejected} item(s) rejected: ${o.reasons.join('; ')}` : '', o.warning].filter(Boolean).join('. ');
        return reply.code(200).type(CONTENT_TYPES[encoding!]).send(encodeOtlpResponse(signal, o.rejected, message, encoding!));
      }
    }
  }
}
