/**
 * The JSON API's response shapes, in one module that both the server and the web UI (`web/`) import,
 * so a field renamed on one side is a compile error on the other instead of a silent drift.
 *
 * Types only: no runtime imports, no node modules — Vite bundles nothing from here, and the server's
 * route handlers and view shapers declare their return types with these names.
 */

// ---- dashboards and saved searches (/api/v1/dashboards, /api/v1/saved-searches) -----------------

/** Kinds of dashboard panel. */
export type PanelType = 'timeseries' | 'stat' | 'bar' | 'table' | 'toplist';

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

/** The spec of a dashboard (validated by the server's zod schema, which must produce this shape). */
export interface DashboardSpec {
  time?: { since?: string; from?: string; to?: string };
  refresh?: string | null;
  variables?: VariableSpec[];
  panels: PanelSpec[];
}
