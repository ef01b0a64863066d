/**
 * The route tree at work (Alertmanager's dispatch/route.go): which routes an alert goes to, and which
 * aggregation group it joins there. Group keys are Alertmanager's (`{}/{severity="critical"}:{alertname="Down"}`)
 * so that receivers that look at `groupKey` (webhook JSON, PagerDuty dedup keys) see what they would
 * see from Alertmanager.
 */
import type { Labels } from '../types.ts';
import type { Route } from './config.ts';
import { matches } from './matchers.ts';

/**
 * The routes an alert goes to: depth-first, the first matching child ends the search among its
 * siblings unless it has `continue: true`; a route none of whose children match is itself the match.
 * An alert the route does not match gets no route (the root matches everything).
 */
export function matchRoutes(route: Route, labels: Labels): Route[] {
  if (!matches(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const found = matchRoutes(child, labels);
    all.push(...found);
    // As in Alertmanager, a matching child without `continue` stops the siblings after it.
    if (found.length > 0 && !child.continue) break;
  }
  if (all.length === 0) all.push(route);
  return all;
}

/** The labels an alert is grouped by on a route: those named in group_by that it has, or all with `...`. */
export function groupLabels(route: Route, labels: Labels): Labels {
  const out: Labels = {};
  for (const name of Object.keys(labels).sort()) {
    if (route.groupByAll || route.groupBy.includes(name)) out[name] = labels[name]!;
  }
  return out;
}

/** Go's `strconv.Quote` (how Alertmanager prints label values in group keys). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c === 0x20 || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** A label set as Prometheus's `model.LabelSet.String()` prints it: `{a="1", b="2"}`. */
export function formatLabelSet(labels: Labels): string {
  // Go sorts the printed `name="value"` pairs as strings, not by name alone.
  const pairs = Object.keys(labels).map((n) => `${n}=${goQuote(labels[n]!)}`);
  pairs.sort();
  return `{${pairs.join(', ')}}`;
}

/** The group an alert joins on a route: Alertmanager's group key and the group labels. */
export function groupOf(route: Route, labels: Labels): { key: string; labels: Labels } {
  const g = groupLabels(route, labels);
  return { key: `${route.key}:${formatLabelSet(g)}`, labels: g };
}

/** Alertmanager's group key of an alert on a route: `<route key>:<group labels>`. */
export function groupKey(route: Route, labels: Labels): string {
  return groupOf(route, labels).key;
}

/** Every route of the tree, depth-first, the root first. */
export function walkRoutes(route: Route): Route[] {
  return [route, ...route.routes.flatMap(walkRoutes)];
}

/** The route with an id (`Route.id`) in the tree, if any. */
export function findRoute(root: Route, id: string): Route | undefined {
  return walkRoutes(root).find((r) => r.id === id);
}
