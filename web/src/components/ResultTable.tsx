/** The rows of a query answer as a table: one column per answer column, numbers right-aligned. */
import type { Row, SearchResult } from '../api.ts';

/** Props of {@link ResultTable}. */
export interface ResultTableProps {
  result: Pick<SearchResult, 'columns' | 'rows'>;
  /** Rows shown at most (the answer may hold more). */
  maxRows: number;
  /** How one cell reads. */
  cell: (row: Row, column: { name: string; type: string }) => string;
  /** Dense rows with wrapping text (dashboard panels). */
  compact?: boolean;
  label?: string;
}

/** A query answer as a table. */
export function ResultTable({ result, maxRows, cell, compact, label }: ResultTableProps) {
  return (
    <div className="table-wrap">
      <table className={compact ? 'table compact' : 'table'} aria-label={label}>
        <thead>
          <tr>
            {result.columns.map((c) => (
              <th key={c.name} className={c.type === 'number' ? 'num' : ''}>
                {c.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.rows.slice(0, maxRows).map((row, i) => (
            <tr key={i}>
              {result.columns.map((c) => (
                <td key={c.name} className={c.type === 'number' ? 'num' : compact ? 'wrap' : ''}>
                  {cell(row, c)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
