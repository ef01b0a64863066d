/**
 * Links from evidence to the exact data behind it, as paths of Vigil's UI with the time range in the URL
 * (`from`/`to` epoch ms, as web/src/time.ts reads them). Query text is URL-encoded here, never by callers.
 */
import type { EvidenceLink, TimeWindow } from './types.ts';

const range = (w: TimeWindow): string => `from=${Math.floor(w.fromMs)}&to=${Math.ceil(w.toMs)}`;

/** A query-language search (logs or `from spans …`) in the explorer. */
export function searchLink(label: string, query: string, w: TimeWindow): EvidenceLink {
  return { kind: query.trimStart().startsWith('from spans') ? 'traces' : 'logs', label, href: `/logs?q=${encodeURIComponent(query)}&${range(w)}` };
}

/** One trace. */
export function traceLink(label: string, traceId: string): EvidenceLink {
  return { kind: 'trace', label, href: `/traces/${encodeURIComponent(traceId)}` };
}

/** A service's APM page over the window. */
export function serviceLink(label: string, service: string, w: TimeWindow): EvidenceLink {
  return { kind: 'service', label, href: `/services/${encodeURIComponent(service)}?${range(w)}` };
}

/** A metric chart in the metric explorer. */
export function metricLink(label: string, metric: { name: string; service?: string; groupBy?: string; agg?: string }, w: TimeWindow): EvidenceLink {
  const p = new URLSearchParams({ name: metric.name });
  if (metric.service) p.set('service', metric.service);
  if (metric.groupBy) p.set('group_by', metric.groupBy);
  if (metric.agg) p.set('agg', metric.agg);
  return { kind: 'chart', label, href: `/explore/metrics?${p.toString()}&${range(w)}` };
}

/** The change list around a change. */
export function changeLink(label: string, service: string, w: TimeWindow): EvidenceLink {
  return { kind: 'change', label, href: `/changes?service=${encodeURIComponent(service)}&${range(w)}` };
}

/** Another incident. */
export function incidentLink(label: string, id: number): EvidenceLink {
  return { kind: 'incident', label, href: `/incidents/${id}` };
}

/** A query-language string value, quoted for a search term (`"a \"b\""`). */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
