import type { IngestPipeline } from './pipeline.ts';
import type { MemoryBudget } from './body.ts';
import type { TokenStore } from '../store/state/tokens.ts';
import type { SelfMetrics } from '../telemetry-self/metrics.ts';
import type { IngestRateLimiter } from './rate-limit.ts';
import type { RecordLimits } from './validate.ts';

/** What every receiver needs: where to put data, who may send it, and the limits. */
export interface ReceiverContext {
  pipeline: IngestPipeline;
  tokens: TokenStore;
  metrics: SelfMetrics;
  budget: MemoryBudget;
  maxBodyBytes: number;
  limiter: IngestRateLimiter;
  /** The accepted time window of records. */
  limits: RecordLimits;
}

/** Result of checking an ingest credential. */
export type IngestAuth = { ok: true; token: string; rateLimit: number | null } | { ok: false; reason: 'missing' | 'malformed' | 'invalid' };

/** Checks `Authorization: <scheme> <token>` for a token that may ingest. */
export async function authenticateIngest(ctx: ReceiverContext, header: string | undefined, scheme: 'Bearer' | 'Splunk'): Promise<IngestAuth> {
  if (!header) return { ok: false, reason: 'missing' };
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return { ok: false, reason: 'malformed' };
  const secret = header.slice(space + 1).trim();
  const token = await ctx.tokens.verify(secret);
  if (!token || (token.scope !== 'ingest' && token.scope !== 'admin')) return { ok: false, reason: 'invalid' };
  return { ok: true, token: token.name, rateLimit: token.rateLimit };
}
