/**
 * Change markers for charts: deploys, rollbacks, configuration changes, feature flags and
 * infrastructure changes from `/api/v1/changes`, as dashed vertical lines (Chart `markers`) coloured by
 * kind, each with a hover title naming kind, version and author, and a legend that lists them.
 */
import { Link } from 'react-router-dom';
import { fmtTime } from '../format.ts';
import type { ChangeEntry, ChangeKind } from '../../../src/api/contract.ts';
import type { Marker } from './Chart.tsx';

/** Marker colour per kind (readable on both themes). */
export const CHANGE_COLORS: Record<ChangeKind, string> = {
  deploy: '#8b5cf6',
  rollback: '#f59e0b',
  config: '#0ea5e9',
  feature_flag: '#10b981',
  infrastructure: '#64748b',
  restart: '#a855f7',
  other: '#6b7280',
};

/** "feature_flag" → "feature flag". */
export function kindLabel(kind: ChangeKind): string {
  return kind.replace('_', ' ');
}

/** "2.5.0 ← 2.4.1", "2.5.0", or ''. */
export function versionText(c: Pick<ChangeEntry, 'version' | 'previousVersion'>): string {
  if (!c.version) return '';
  return c.previousVersion ? `${c.version} ← ${c.previousVersion}` : c.version;
}

/** One line naming a change: kind, version, author, source and description. */
export function changeTitle(c: ChangeEntry): string {
  const what = [kindLabel(c.kind), versionText(c)].filter(Boolean).join(' ');
  const who = c.author ? ` by ${c.author}` : c.source === 'detected' ? ' (detected by Vigil)' : '';
  return `${what}${who} at ${fmtTime(c.at, true)}${c.description ? ` — ${c.description}` : ''}`;
}

const shortTime = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Chart markers for changes. */
export function changeMarkers(changes: readonly ChangeEntry[]): Marker[] {
  return changes.map((c) => ({ time: Date.parse(c.at), label: [kindLabel(c.kind), c.version].filter(Boolean).join(' '), color: CHANGE_COLORS[c.kind], title: changeTitle(c) }));
}

/** The legend of change markers: each change in the range, titled with its details, linking to the change list. */
export function ChangeLegend({ changes, service }: { changes: readonly ChangeEntry[]; service: string }) {
  if (changes.length === 0) return null;
  const shown = changes.slice(0, 8);
  return (
    <div className="legend-row change-legend" data-testid="change-legend">
      <span className="legend-item">changes:</span>
      {shown.map((c) => (
        <Link key={c.id} to={`/changes?service=${encodeURIComponent(service)}`} className="legend-item" title={changeTitle(c)} data-testid="change-legend-item">
          <i style={{ background: CHANGE_COLORS[c.kind] }} />
          {[kindLabel(c.kind), c.version].filter(Boolean).join(' ')} {shortTime(c.at)}
        </Link>
      ))}
      {changes.length > shown.length && (
        <Link to={`/changes?service=${encodeURIComponent(service)}`} className="legend-item">
          +{changes.length - shown.length} more
        </Link>
      )}
    </div>
  );
}
