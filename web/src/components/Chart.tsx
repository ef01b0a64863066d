/**
 * Time-series chart on uPlot (Grafana's own chart: canvas, smooth with 10k+ points). Follows the theme,
 * resizes with its container, formats the y axis in its unit, draws change markers, and reports a
 * drag-selected range through `onZoom` (drag-to-zoom).
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmt, isShare, type Unit } from '../format.ts';
import { cssVar, PALETTE } from '../theme.ts';

/** One line (or bar set) of a chart. */
export interface Series {
  label: string;
  values: (number | null)[];
  color?: string;
  /** Fill under the line (stacked bars use this). */
  fill?: boolean;
}

/** A vertical marker (e.g. a deploy) at a time in ms. */
export interface Marker {
  time: number;
  label: string;
  /** Line colour (default the theme's marker colour). */
  color?: string;
  /** Shown on hover over the line (e.g. a change's kind, version and author). */
  title?: string;
}

/** A shaded time span in ms (e.g. an alert firing), edged by lines at its start and end; `to` null runs to the right edge. */
export interface Band {
  from: number;
  to: number | null;
  label: string;
  /** Edge colour; the fill is the same colour, faint. */
  color?: string;
}

/** Props of {@link Chart}. */
export interface ChartProps {
  /** Unix seconds, ascending. */
  x: number[];
  series: Series[];
  unit?: Unit;
  height?: number;
  kind?: 'line' | 'bars' | 'points';
  onZoom?: (fromMs: number, toMs: number) => void;
  markers?: Marker[];
  bands?: Band[];
  /** Accessible name. */
  label?: string;
  /** Called after the first draw, with the time it took (benchmarks). */
  onDrawn?: (ms: number) => void;
}

const AXIS_FONT = '11px system-ui, sans-serif';
let measurer: CanvasRenderingContext2D | null = null;

/** Width in CSS pixels of the widest tick label, so the y axis is as wide as its labels (none cut, none wasting room). */
function labelWidth(values: string[] | null | undefined): number {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer || !values?.length) return 0;
  measurer.font = AXIS_FONT;
  return Math.max(...values.map((v) => measurer!.measureText(v).width));
}

/** A round number at or above v: 1, 2, 2.5, 5 × 10^n. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * The y range for the data and its unit: non-negative data starts at 0; all-zero or empty data gets a
 * small positive range instead of uPlot's default (which made an error-free error rate read 0-10,000 %);
 * a share never runs past 100 % unless the data does.
 */
export function yRange(unit: Unit, min: number | null, max: number | null): [number, number] {
  const share = isShare(unit);
  const lo = min === null || min >= 0 ? 0 : -niceCeil(-min * 1.05);
  if (max === null || max <= 0) return [lo, lo < 0 ? 0 : share ? 0.05 : 1];
  const hi = niceCeil(max * 1.05);
  return [lo, share && max <= 1 ? Math.min(1, hi) : hi];
}

function build(el: HTMLElement, p: ChartProps, width: number): uPlot {
  const axis = cssVar('--muted') || '#666';
  const grid = cssVar('--grid') || '#e5e7eb';
  const unit = p.unit ?? 'none';
  const bars = p.kind === 'bars' ? uPlot.paths.bars!({ size: [0.85, 60], gap: 1 }) : undefined;
  const opts: uPlot.Options = {
    width,
    height: p.height ?? 200,
    // Right padding null: uPlot pads for the last x label, which a fixed padding cut off.
    padding: [8, null, 0, 4],
    scales: { x: { time: true }, y: { range: (_u, min, max) => yRange(unit, min, max) } },
    cursor: { drag: { x: !!p.onZoom, y: false, setScale: false }, points: { size: 6 } },
    select: { show: !!p.onZoom, left: 0, top: 0, width: 0, height: 0 },
    legend: { show: p.series.length > 0, live: true },
    axes: [
      // Time labels need room: 80 px between ticks keeps "11/30 14:00" labels apart.
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: AXIS_FONT, space: 80 },
      {
        stroke: axis,
        grid: { stroke: grid, width: 1 },
        ticks: { show: false },
        size: (_u, values) => Math.ceil(labelWidth(values)) + 14,
        font: AXIS_FONT,
        values: (_u, vals) => vals.map((v) => fmt(v, unit)),
      },
    ],
    series: [
      { value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString()) },
      ...p.series.map((s, i) => {
        const color = s.color ?? PALETTE[i % PALETTE.length]!;
        return {
          label: s.label,
          stroke: color,
          width: p.kind === 'bars' ? 0 : 1.5,
          fill: p.kind === 'bars' || s.fill ? color : undefined,
          paths: p.kind === 'points' ? () => null : bars,
          points: p.kind === 'points' ? { show: true, size: 4, fill: color, stroke: color } : { show: false },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => fmt(v, unit),
        } satisfies uPlot.Series;
      }),
    ],
    hooks: {
      setSelect: [
        (u) => {
          if (!p.onZoom || u.select.width < 4) return;
          const a = u.posToVal(u.select.left, 'x');
          const b = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          p.onZoom(a * 1000, b * 1000);
        },
      ],
      draw: [
        (u) => drawBands(u, p.bands),
        (u) => {
          if (!p.markers?.length) return;
          const ctx = u.ctx;
          ctx.save();
          const theme = cssVar('--marker') || '#8b5cf6';
          ctx.setLineDash([4, 3]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
          for (const m of p.markers) {
            const x = u.valToPos(m.time / 1000, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = m.color ?? theme;
            ctx.fillStyle = ctx.strokeStyle;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(m.label.slice(0, 30), x + 3 * devicePixelRatio, u.bbox.top + 10 * devicePixelRatio);
          }
          ctx.restore();
        },
        (u) => placeMarkerTitles(u, p.markers),
      ],
    },
  };
  const data: uPlot.AlignedData = [p.x, ...p.series.map((s) => s.values)];
  return new uPlot(opts, data, el);
}

/**
 * Hover targets for markers with a title: thin boxes over each line in uPlot's overlay, whose native
 * `title` is the tooltip (the canvas itself cannot have one). Redone on every draw (zoom, resize).
 */
function placeMarkerTitles(u: uPlot, markers: Marker[] | undefined): void {
  for (const el of Array.from(u.over.querySelectorAll('.chart-marker-hit'))) el.remove();
  const width = u.bbox.width / devicePixelRatio;
  for (const m of markers ?? []) {
    if (!m.title) continue;
    const x = u.valToPos(m.time / 1000, 'x');
    if (x < 0 || x > width) continue;
    const hit = document.createElement('div');
    hit.className = 'chart-marker-hit';
    hit.title = m.title;
    hit.style.left = `${x - 4}px`;
    if (m.color) hit.style.setProperty('--marker-color', m.color);
    u.over.appendChild(hit);
  }
}

/** Shades each band under the series and edges it at its start and end (clipped to the plot). */
function drawBands(u: uPlot, bands: Band[] | undefined): void {
  if (!bands?.length) return;
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  for (const b of bands) {
    const color = b.color ?? '#ef4444';
    const x0 = Math.max(left, u.valToPos(b.from / 1000, 'x', true));
    const x1 = b.to === null ? left + width : Math.min(left + width, u.valToPos(b.to / 1000, 'x', true));
    if (x1 < left || x0 > left + width) continue;
    ctx.globalAlpha = 0.13;
    ctx.fillStyle = color;
    // At least 2 px wide: a short firing still shows at a wide range.
    ctx.fillRect(x0, top, Math.max(2 * devicePixelRatio, x1 - x0), height);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = color;
    ctx.beginPath();
    if (u.valToPos(b.from / 1000, 'x', true) >= left) {
      ctx.moveTo(x0, top);
      ctx.lineTo(x0, top + height);
    }
    if (b.to !== null && x1 <= left + width) {
      ctx.moveTo(x1, top);
      ctx.lineTo(x1, top + height);
    }
    ctx.stroke();
    ctx.fillStyle = color;
    // The label goes right of the start, or left of it when it would run past the plot's right edge.
    const label = b.label.slice(0, 30);
    const w = ctx.measureText(label).width;
    const tx = x0 + 3 * devicePixelRatio + w > left + width ? x0 - 3 * devicePixelRatio - w : x0 + 3 * devicePixelRatio;
    ctx.fillText(label, tx, top + height - 4 * devicePixelRatio);
  }
  ctx.restore();
}

/** A uPlot chart. */
export function Chart(p: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const props = useRef(p);
  props.current = p;
  const shape = `${p.series.map((s) => s.label + (s.color ?? '')).join('|')}:${p.kind}:${p.unit}:${p.height}:${!!p.onZoom}:${(p.markers ?? []).map((m) => m.time).join(',')}:${(p.bands ?? []).map((b) => `${b.from}-${b.to}`).join(',')}`;

  useEffect(() => {
    const el = ref.current!;
    const make = () => {
      plot.current?.destroy();
      const t0 = performance.now();
      plot.current = build(el, props.current, Math.max(100, el.clientWidth));
      // Time to build and paint, readable by benchmarks as data-draw-ms.
      requestAnimationFrame(() => {
        const ms = performance.now() - t0;
        el.dataset.drawMs = ms.toFixed(1);
        el.dataset.points = String(props.current.x.length * Math.max(1, props.current.series.length));
        props.current.onDrawn?.(ms);
      });
    };
    make();
    const ro = new ResizeObserver(() => {
      const w = Math.max(100, el.clientWidth);
      if (plot.current && Math.abs(plot.current.width - w) > 1) plot.current.setSize({ width: w, height: props.current.height ?? 200 });
    });
    ro.observe(el);
    window.addEventListener('vigil:theme', make);
    return () => {
      ro.disconnect();
      window.removeEventListener('vigil:theme', make);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([p.x, ...p.series.map((s) => s.values)]);
  }, [p.x, p.series]);

  return <div className="chart" ref={ref} role="img" aria-label={p.label ?? 'chart'} />;
}

/** A small inline line (SVG), for tiles and tables. */
export function Sparkline({ values, color = PALETTE[0], width = 120, height = 28, label }: { values: (number | null)[]; color?: string; width?: number; height?: number; label?: string }) {
  const nums = values.map((v) => (v == null || Number.isNaN(v) ? null : v));
  const finite = nums.filter((v): v is number => v !== null);
  if (finite.length < 2) return <svg className="spark" width={width} height={height} aria-label={label ?? 'no data'} />;
  const max = Math.max(...finite);
  const min = Math.min(0, ...finite);
  const span = max - min || 1;
  const step = width / (nums.length - 1);
  let d = '';
  let pen = false;
  nums.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (height - 2 - ((v - min) / span) * (height - 4)).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x},${y}`;
    pen = true;
  });
  return (
    <svg className="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-label={label}>
      <path d={d} fill="none" stroke={color} strokeWidth="1.5" />
    </svg>
  );
}
