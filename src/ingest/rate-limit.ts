/**
 * Per-token ingest rate limits: a token bucket per token, in records per second. A request is let
 * through while the bucket is not in debt and then charged in full, so one large batch always passes
 * and the sender is slowed on the next ones; the refusal says how long to wait. `now` is an argument.
 */

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by API token name. */
export class IngestRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    /** Default records per second for tokens without their own limit; 0 = unlimited. */
    private readonly defaultRate: number,
    /** Seconds of traffic a bucket can save up. */
    private readonly burstSeconds = 2,
  ) {}

  /** Charges `records` to the token; returns 0 when allowed, else the seconds to wait. */
  take(token: string, records: number, ownRate: number | null, nowMs: number): number {
    const rate = ownRate ?? this.defaultRate;
    if (!rate) return 0;
    const capacity = rate * this.burstSeconds;
    const b = this.buckets.get(token) ?? { tokens: capacity, at: nowMs };
    b.tokens = Math.min(capacity, b.tokens + ((nowMs - b.at) / 1000) * rate);
    b.at = nowMs;
    this.buckets.set(token, b);
    if (b.tokens <= 0) return Math.max(1, Math.ceil(-b.tokens / rate));
    b.tokens -= records;
    return 0;
  }
}
