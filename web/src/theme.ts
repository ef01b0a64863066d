/** Light and dark themes: a `data-theme` attribute on <html>, remembered in localStorage. */
export type Theme = 'light' | 'dark';

/** The saved theme, else the system preference. */
export function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem('vigil.theme');
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    // Storage can be off; fall through to the system preference.
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Applies and remembers a theme; charts listen for the `vigil:theme` event to redraw. */
export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('vigil.theme', t);
  } catch {
    // Not remembered; still applied.
  }
  window.dispatchEvent(new Event('vigil:theme'));
}

/** A CSS custom property of the current theme. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Series colours, readable on both themes. */
export const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#64748b'];

/** Severity colours for logs. */
export const SEVERITY_COLORS: Record<string, string> = {
  FATAL: '#7f1d1d',
  ERROR: '#dc2626',
  WARN: '#f59e0b',
  INFO: '#3b82f6',
  DEBUG: '#94a3b8',
  TRACE: '#cbd5e1',
};

/** The colour of a severity name (ERROR2 → ERROR). */
export function severityColor(s: unknown): string {
  const key = String(s ?? '').toUpperCase().replace(/\d+$/, '');
  return SEVERITY_COLORS[key] ?? '#64748b';
}
