/**
 * The accept path every receiver shares, spelled out once:
 *   auth → read (bounded body) → decode → validate → rate limit → submit (processors, group commit).
 * It returns what happened as an {@link Outcome}; each receiver only turns that into its protocol's
 * reply (OTLP Status and partial_success, Splunk's codes), and counts the request.
 */
import type { FastifyRequest } from 'fastify';
import type { Signal, TelemetryBatch } from '../model/telemetry.ts';
import { BodyError, readBody } from './body.ts';
import { authenticateIngest, type IngestAuth, type ReceiverContext } from './context.ts';
import { QueueFullError, RecordsRejectedError } from './pipeline.ts';
import { validateBatch } from './validate.ts';

/** What a receiver's decoder returns: rows, plus items it dropped and why. */
export interface DecodedBody<Extra = undefined> {
  batch: TelemetryBatch;
  rejected: number;
  errors: string[];
  /** Protocol-specific facts the reply needs (HEC: the first invalid event). */
  extra?: Extra;
}

/** The body as a whole cannot be decoded: answered 400 with this message. */
export class UndecodableError extends Error {}

/** The body holds nothing (only whitespace, say): answered as an empty body. */
export class EmptyBodyError extends Error {}

/** How a request ended. */
export type Outcome<Extra = undefined> =
  | { kind: 'unauthorized'; reason: Exclude<IngestAuth, { ok: true }>['reason'] }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'body'; error: BodyError }
  | { kind: 'empty' }
  | { kind: 'undecodable'; message: string }
  | { kind: 'rate_limited'; token: string; retryAfter: number }
  | { kind: 'queue_full'; retryAfter: number }
  | { kind: 'unstorable'; message: string }
  | { kind: 'unavailable'; message: string }
  | { kind: 'accepted'; accepted: number; rejected: number; reasons: string[]; warning: string; extra?: Extra };

/** What differs between receivers on the accept path. */
export interface AcceptOptions<Extra> {
  receiver: 'otlp' | 'hec';
  /** The signal counted in Vigil's own metrics. */
  signal: Signal;
  scheme: 'Bearer' | 'Splunk';
  /** Checks made before the body is read (e.g. the content type); a string refuses with 415. */
  precheck?: () => string | undefined;
  /** Decodes the body; throws {@link UndecodableError} when none of it can be read. */
  decode: (bytes: Buffer) => DecodedBody<Extra>;
}

/** Runs one request through the accept path. */
export async function accept<Extra>(ctx: ReceiverContext, req: FastifyRequest, opts: AcceptOptions<Extra>): Promise<Outcome<Extra>> {
  const auth = await authenticateIngest(ctx, req.headers.authorization, opts.scheme);
  if (!auth.ok) {
    req.raw.resume();
    return { kind: 'unauthorized', reason: auth.reason };
  }
  const refusal = opts.precheck?.();
  if (refusal) {
    req.raw.resume();
    return { kind: 'refused', status: 415, message: refusal };
  }

  let body;
  try {
    body = await readBody(req.raw, { limit: ctx.maxBodyBytes, budget: ctx.budget });
  } catch (err) {
    if (err instanceof BodyError) return { kind: 'body', error: err };
    throw err;
  }
  ctx.metrics.inflightBytes.set(ctx.budget.inUse);
  let decoded: DecodedBody<Extra>;
  try {
    if (body.bytes.length === 0) return { kind: 'empty' };
    decoded = opts.decode(body.bytes);
  } catch (err) {
    if (err instanceof UndecodableError) return { kind: 'undecodable', message: err.message };
    if (err instanceof EmptyBodyError) return { kind: 'empty' };
    throw err;
  } finally {
    // The decoded rows no longer need the raw bytes.
    body.release();
    ctx.metrics.inflightBytes.set(ctx.budget.inUse);
  }

  const verdict = validateBatch(decoded.batch, BigInt(Date.now()) * 1_000_000n, ctx.limits);
  const rejected = decoded.rejected + verdict.rejected;
  const reasons = [...decoded.errors, ...verdict.reasons];
  if (rejected > 0) ctx.metrics.rejected.inc({ signal: opts.signal, receiver: opts.receiver, reason: 'invalid_item' }, rejected);
  const { batch } = decoded;
  const accepted = batch.logs.length + batch.spans.length + batch.metrics.length;
  if (accepted > 0) {
    const wait = ctx.limiter.take(auth.token, accepted, auth.rateLimit, Date.now());
    if (wait > 0) return { kind: 'rate_limited', token: auth.token, retryAfter: wait };
    try {
      await ctx.pipeline.submit(batch);
    } catch (err) {
      if (err instanceof QueueFullError) return { kind: 'queue_full', retryAfter: err.retryAfterSeconds };
      if (err instanceof RecordsRejectedError) return { kind: 'unstorable', message: err.message };
      return { kind: 'unavailable', message: (err as Error).message };
    }
    ctx.metrics.accepted.inc({ signal: opts.signal, receiver: opts.receiver }, accepted);
  }
  return { kind: 'accepted', accepted, rejected, reasons, warning: verdict.warning, extra: decoded.extra };
}
