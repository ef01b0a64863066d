/** A table whose columns sort on click (numbers descending first, text ascending). */
import { useMemo, useState, type ReactNode } from 'react';

/** A column of {@link SortTable}. */
export interface Column<T> {
  key: string;
  label: string;
  /** The value sorted on (default `row[key]`). */
  value?: (row: T) => number | string | null | undefined;
  render?: (row: T) => ReactNode;
  numeric?: boolean;
  title?: string;
  /** The column takes the room left and cuts its text with an ellipsis, so the table fits its panel. */
  grow?: boolean;
}

function cellClass<T>(c: Column<T>): string {
  return [c.numeric ? 'num' : '', c.grow ? 'grow' : ''].join(' ').trim();
}

/** A sortable table. */
export function SortTable<T>({ rows, columns, initialSort, rowKey, label }: { rows: T[]; columns: Column<T>[]; initialSort?: string; rowKey: (row: T, i: number) => string; label?: string }) {
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: initialSort ?? columns[0]!.key, desc: columns.find((c) => c.key === initialSort)?.numeric ?? false });
  const sorted = useMemo(() => {
    const col = columns.find((c) => c.key === sort.key);
    if (!col) return rows;
    const get = col.value ?? ((r: T) => (r as Record<string, unknown>)[col.key] as number | string | null);
    return [...rows].sort((a, b) => {
      const va = get(a);
      const vb = get(b);
      if (va == null && vb == null) return 0;
      if (va == null) return 1;
      if (vb == null) return -1;
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      return sort.desc ? -c : c;
    });
  }, [rows, columns, sort]);
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} className={cellClass(c)} title={c.title} aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                <button type="button" onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : !!c.numeric }))}>
                  {c.label}
                  <span className="sort-mark">{sort.key === c.key ? (sort.desc ? '▼' : '▲') : ''}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r, i) => (
            <tr key={rowKey(r, i)}>
              {columns.map((c) => (
                <td key={c.key} className={cellClass(c)}>
                  {c.render ? c.render(r) : String((r as Record<string, unknown>)[c.key] ?? '—')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
