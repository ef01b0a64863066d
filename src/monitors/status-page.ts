/**
 * Public status pages: the model (only the components an admin chose, under the names chosen for the
 * public — never monitor ids, URLs or errors) and its server-rendered HTML. All text is escaped; the
 * page needs no script and no inline style, so it is served under a strict Content-Security-Policy.
 */
import { dailyBars, uptimeOf, DAY_MS, type DayBar, type Rollup } from './uptime.ts';
import type { StatusPageDef } from '../store/state/monitors.ts';
import type { MonitorState } from './state.ts';
import type { PublicComponent, PublicIncident, PublicStatusPage } from '../api/contract.ts';

// The public shapes are the API contract's (src/api/contract.ts), shared with the web UI.
export type { PublicComponent, PublicIncident, PublicStatusPage };

/**
 * Where incidents come from. The incidents module plugs in here; until it exists the source answers
 * no incidents.
 */
export type IncidentSource = (monitorIds: readonly string[], now: number) => Promise<{ active: PublicIncident[]; past: PublicIncident[] }>;

/** No incidents (the default until incidents exist). */
export const noIncidents: IncidentSource = async () => ({ active: [], past: [] });



const PUBLIC_STATUS: Record<MonitorState, PublicComponent['status']> = { up: 'operational', degraded: 'degraded', down: 'outage', pending: 'unknown' };

/** Builds the public model; pure. */
export function buildStatusPage(
  page: StatusPageDef,
  states: ReadonlyMap<string, MonitorState>,
  daily: readonly Rollup[],
  incidents: { active: PublicIncident[]; past: PublicIncident[] },
  now: number,
): PublicStatusPage {
  const components = page.components.map((c): PublicComponent => {
    const mine = daily.filter((r) => r.monitorId === c.monitorId);
    const state = states.get(c.monitorId);
    return {
      name: c.name,
      status: state ? PUBLIC_STATUS[state] : 'unknown',
      uptime90d: uptimeOf(mine, DAY_MS, now - 90 * DAY_MS, now + 1).uptime,
      bars: dailyBars(mine, 90, now),
    };
  });
  const order = ['outage', 'degraded', 'unknown', 'operational'] as const;
  const known = components.map((c) => c.status);
  const status = known.length === 0 ? 'unknown' : (order.find((s) => s !== 'unknown' && known.includes(s)) ?? 'unknown');
  return { title: page.title, description: page.description, status, components, incidents, updatedAt: new Date(now).toISOString() };
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's Content-Security-Policy: its own stylesheet, nothing else. */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const LABEL: Record<PublicStatusPage['status'], string> = { operational: 'Operational', degraded: 'Degraded performance', outage: 'Outage', unknown: 'No data yet' };

function barClass(b: DayBar): string {
  if (b.uptime === null) return 'none';
  if (b.uptime >= 0.999) return 'ok';
  if (b.uptime >= 0.99) return 'warn';
  return 'bad';
}

function pct(u: number | null): string {
  return u === null ? '—' : `${(Math.floor(u * 10000) / 100).toFixed(2)}%`;
}

/** Renders the page as HTML; every piece of text goes through {@link escapeHtml}. */
export function renderStatusPageHtml(p: PublicStatusPage, cssHref: string): string {
  const e = escapeHtml;
  const incident = (i: PublicIncident) =>
    `<li class="incident"><h3>${e(i.title)}</h3><p class="meta">${e(i.status)} · since ${e(i.startedAt)}${i.resolvedAt ? ` · resolved ${e(i.resolvedAt)}` : ''}</p>${i.updates.map((u) => `<p><time>${e(u.at)}</time> ${e(u.message)}</p>`).join('')}</li>`;
  const components = p.components
    .map(
      (c) => `<li class="component">
  <div class="row"><span class="name">${e(c.name)}</span><span class="state s-${c.status}">${e(LABEL[c.status])}</span></div>
  <div class="bars" aria-label="uptime over the last 90 days">${c.bars.map((b) => `<span class="bar b-${barClass(b)}" title="${e(`${b.date}: ${pct(b.uptime)}`)}"></span>`).join('')}</div>
  <div class="row small"><span>90 days ago</span><span>${e(pct(c.uptime90d))} uptime</span><span>today</span></div>
</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(p.title)} status</title>
<link rel="stylesheet" href="${e(cssHref)}">
</head>
<body>
<main>
<h1>${e(p.title)}</h1>
${p.description ? `<p class="description">${e(p.description)}</p>` : ''}
<p class="overall s-${p.status}">${e(p.status === 'operational' ? 'All systems operational' : LABEL[p.status])}</p>
${p.incidents.active.length ? `<section><h2>Active incidents</h2><ul>${p.incidents.active.map(incident).join('')}</ul></section>` : ''}
<section><h2>Components</h2><ul class="components">
${components}
</ul></section>
${p.incidents.past.length ? `<section><h2>Past incidents</h2><ul>${p.incidents.past.map(incident).join('')}</ul></section>` : ''}
<footer>Updated ${e(p.updatedAt)}</footer>
</main>
</body>
</html>
`;
}

/** The page's stylesheet (served from its own URL: the CSP allows no inline style). */
export const STATUS_PAGE_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:860px;margin:0 auto;padding:2rem 1rem}
h1{margin:0 0 .5rem}.description{color:#555}
.overall{padding:1rem;border-radius:6px;font-weight:600;color:#fff}
.overall.s-operational{background:#2e9d5b}.overall.s-degraded{background:#d49a00}.overall.s-outage{background:#c8372d}.overall.s-unknown{background:#7a8190}
ul{list-style:none;padding:0}.component{background:#fff;border-radius:6px;padding:1rem;margin:.75rem 0;box-shadow:0 1px 2px #0001}
.row{display:flex;justify-content:space-between;align-items:center}.small{font-size:.75rem;color:#777;margin-top:.25rem}
.name{font-weight:600}.state.s-operational{color:#2e9d5b}.state.s-degraded{color:#b38200}.state.s-outage{color:#c8372d}.state.s-unknown{color:#7a8190}
.bars{display:flex;gap:2px;margin-top:.5rem;height:28px}.bar{flex:1;border-radius:2px}
.b-ok{background:#2e9d5b}.b-warn{background:#d49a00}.b-bad{background:#c8372d}.b-none{background:#d5d8de}
.incident{background:#fff;border-left:4px solid #c8372d;padding:.5rem 1rem;margin:.5rem 0}.meta{color:#777;font-size:.85rem}
footer{color:#888;font-size:.8rem;margin-top:2rem}
`;
