/** Time range picker: presets, an absolute range, and a refresh button. */
import { useState } from 'react';
import { PRESETS, rangeLabel, resolveRange, type TimeRange } from '../time.ts';

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** Picks a range; `onRefresh` re-runs the page's queries. */
export function TimeRangePicker({ range, onChange, onRefresh }: { range: TimeRange; onChange: (r: TimeRange) => void; onRefresh?: () => void }) {
  const [open, setOpen] = useState(false);
  const [from, to] = resolveRange(range);
  const [f, setF] = useState(toLocalInput(from));
  const [t, setT] = useState(toLocalInput(to));
  return (
    <div className="time-picker">
      <div className="seg" role="group" aria-label="time range presets">
        {PRESETS.map((p) => (
          <button type="button" key={p} className={'since' in range && range.since === p ? 'on' : ''} onClick={() => onChange({ since: p })}>
            {p}
          </button>
        ))}
        <button
          type="button"
          className={'from' in range ? 'on' : ''}
          onClick={() => {
            setF(toLocalInput(from));
            setT(toLocalInput(to));
            setOpen((o) => !o);
          }}
          title="Absolute range"
        >
          {'from' in range ? rangeLabel(range) : 'Custom'}
        </button>
      </div>
      {onRefresh && (
        <button type="button" className="btn icon" onClick={onRefresh} title="Refresh" aria-label="Refresh">
          ↻
        </button>
      )}
      {open && (
        <form
          className="popover"
          onSubmit={(e) => {
            e.preventDefault();
            const a = new Date(f).getTime();
            const b = new Date(t).getTime();
            if (a < b) {
              onChange({ from: a, to: b });
              setOpen(false);
            }
          }}
        >
          <label>
            From <input type="datetime-local" step="1" value={f} onChange={(e) => setF(e.target.value)} />
          </label>
          <label>
            To <input type="datetime-local" step="1" value={t} onChange={(e) => setT(e.target.value)} />
          </label>
          <button className="btn primary small" type="submit">
            Apply
          </button>
        </form>
      )}
    </div>
  );
}
