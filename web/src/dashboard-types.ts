/** Dashboard specs as stored by `/api/v1/dashboards`: the API contract's types, and helpers over them. */

import type { Dashboard, DashboardSpec, PanelSpec, PanelType, VariableSpec } from '../../src/api/contract.ts';

export type { Dashboard, DashboardSpec, PanelSpec, PanelType, VariableSpec };

/** Kinds of panel, for pickers (every one of the contract's panel types). */
export const PANEL_TYPES = ['timeseries', 'stat', 'bar', 'table', 'toplist'] as const satisfies readonly PanelType[];

/** Replaces `$name` and `${name}` with the variables' values. */
export function substitute(q: string, vars: Record<string, string>): string {
  return q.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => (name in vars ? vars[name]! : m));
}

/** The first free row below every panel. */
export function nextY(panels: PanelSpec[]): number {
  return panels.reduce((m, p) => Math.max(m, p.y + p.h), 0);
}
