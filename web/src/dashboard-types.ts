/** Dashboard specs as stored by `/api/v1/dashboards` (validated server-side in routes/dashboards.ts). */

/** Kinds of panel. */
export const PANEL_TYPES = ['timeseries', 'stat', 'bar', 'table', 'toplist'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

/** One panel: a query (search language) or a metric, drawn one way, placed on a 12-column grid. */
export interface PanelSpec {
  id: string;
  title: string;
  type: PanelType;
  source: 'search' | 'metric';
  query?: string;
  metric?: { name: string; agg?: string; group_by?: string; service?: string };
  unit?: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A dashboard variable, used as `$name` in queries. */
export interface VariableSpec {
  name: string;
  label?: string;
  type: 'service' | 'namespace' | 'custom';
  options?: string[];
  default?: string;
}

/** The spec of a dashboard. */
export interface DashboardSpec {
  time?: { since?: string; from?: string; to?: string };
  refresh?: string | null;
  variables?: VariableSpec[];
  panels: PanelSpec[];
}

/** A dashboard. */
export interface Dashboard {
  id: string;
  title: string;
  description: string;
  builtin: boolean;
  spec: DashboardSpec;
  updatedAt: string;
}

/** Replaces `$name` and `${name}` with the variables' values. */
export function substitute(q: string, vars: Record<string, string>): string {
  return q.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => (name in vars ? vars[name]! : m));
}

/** The first free row below every panel. */
export function nextY(panels: PanelSpec[]): number {
  return panels.reduce((m, p) => Math.max(m, p.y + p.h), 0);
}
