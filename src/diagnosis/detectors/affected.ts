/**
 * The services the request-level detectors look at: the incident's services and everything they call
 * (a deploy or an outage downstream shows up in the callee's own spans, not the alerting service's),
 * or every service when the incident names none; and that choice as a query-language search term.
 */
import { quote } from '../links.ts';
import { downstreamOf } from '../topology.ts';
import type { DetectorContext } from '../types.ts';

/** The scope's services and their downstream services, sorted; null when the scope names none (all services). */
export async function affectedServices(ctx: DetectorContext): Promise<string[] | null> {
  if (ctx.scope.services.length === 0) return null;
  const edges = await ctx.topology();
  const out = new Set(ctx.scope.services);
  for (const s of ctx.scope.services) for (const d of downstreamOf(s, edges)) out.add(d);
  return [...out].sort();
}

/** A search term keeping those services (empty text for all). */
export function serviceTerm(services: readonly string[] | null): string {
  if (services === null) return '';
  if (services.length === 0) return 'service.name=""';
  return `service.name IN (${services.map(quote).join(', ')})`;
}

/** One operation of one service, as the `<service> <operation>` component names it. */
export function operationTerm(service: string, operation: string): string {
  return `service.name=${quote(service)} name=${quote(operation)}`;
}
