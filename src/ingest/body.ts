/**
 * Reads a request body with hard bounds. The size limit applies after decompression and is checked
 * as bytes come out of the inflater, so a gzip bomb is stopped at the limit instead of expanding in
 * memory. A shared {@link MemoryBudget} caps the bytes held by all bodies in flight at once, so many
 * concurrent senders cannot add up to more memory than the server is given.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

/** A body that cannot be accepted; `status` is the HTTP status to answer with. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 408 | 413 | 415 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes of request bodies held in memory by all requests together. */
export class MemoryBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  /** Reserves n bytes; false when the budget would be exceeded. */
  tryReserve(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  /** Returns n reserved bytes. */
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Bytes currently reserved. */
  get inUse(): number {
    return this.used;
  }
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Maximum decompressed size in bytes. */
  limit: number;
  budget: MemoryBudget;
}

/** A body read into memory; call `release` once it is no longer needed. */
export interface Body {
  bytes: Buffer;
  release(): void;
}

/** Reads, decompresses (gzip, deflate) and bounds a request body. */
export async function readBody(req: IncomingMessage, opts: ReadBodyOptions): Promise<Body> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let inflater: Transform | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
  else if (encoding === 'deflate') inflater = createInflate();
  else if (encoding !== 'identity' && encoding !== '') {
    req.resume();
    throw new BodyError(415, `unsupported Content-Encoding "${encoding.slice(0, 40)}": use gzip, deflate or none`);
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (!inflater && Number.isFinite(declared) && declared > opts.limit) {
    req.resume();
    throw new BodyError(413, `request body of ${declared} bytes is over the limit of ${opts.limit} bytes`);
  }

  const chunks: Buffer[] = [];
  let size = 0;
  let reserved = 0;
  const release = () => {
    opts.budget.release(reserved);
    reserved = 0;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: BodyError) => {
        if (settled) return;
        settled = true;
        if (inflater) {
          req.unpipe(inflater);
          inflater.destroy();
        }
        // Drain what the client still sends so the error response can be written.
        req.resume();
        reject(err);
      };
      const source = inflater ?? req;
      source.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > opts.limit) {
          fail(new BodyError(413, `request body is over the limit of ${opts.limit} bytes${inflater ? ' after decompression' : ''}`));
          return;
        }
        if (!opts.budget.tryReserve(chunk.length)) {
          fail(new BodyError(503, 'server is busy: too many request bytes in flight'));
          return;
        }
        reserved += chunk.length;
        chunks.push(chunk);
      });
      source.on('end', () => {
        if (settled) return;
        settled = true;
        resolve();
      });
      source.on('error', (err: Error) => {
        fail(inflater && source === inflater ? new BodyError(400, `corrupt ${encoding} body: ${err.message}`) : new BodyError(400, `request body could not be read: ${err.message}`));
      });
      if (inflater) {
        req.on('error', (err) => fail(new BodyError(400, `request body could not be read: ${err.message}`)));
        req.on('aborted', () => fail(new BodyError(400, 'request aborted')));
        req.pipe(inflater);
      } else {
        req.on('aborted', () => fail(new BodyError(400, 'request aborted')));
      }
    });
  } catch (err) {
    release();
    throw err;
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), release };
}
