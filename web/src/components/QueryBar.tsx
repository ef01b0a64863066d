/**
 * The query bar: syntax highlighting (a coloured copy of the text under a transparent textarea), field,
 * command and value autocomplete, and the server's parse error shown at its position.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { AGGREGATES, caretContext, COMMANDS, quoteValue, tokenize, type CaretContext } from '../query-syntax.ts';

/** Props of {@link QueryBar}. */
export interface QueryBarProps {
  value: string;
  onChange: (v: string) => void;
  onSubmit: (v: string) => void;
  /** The parse error of the current text, with its 0-based position. */
  error?: { message: string; position?: number } | null;
  fields: string[];
  /** Values of a field for autocomplete. */
  loadValues?: (field: string) => Promise<string[]>;
  placeholder?: string;
}

interface Suggestion {
  label: string;
  insert: string;
  hint?: string;
}

/** The query input. */
export function QueryBar({ value, onChange, onSubmit, error, fields, loadValues, placeholder }: QueryBarProps) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [values, setValues] = useState<{ field: string; list: string[] } | null>(null);
  const ctx: CaretContext = useMemo(() => caretContext(value, caret), [value, caret]);

  useEffect(() => {
    if (ctx.kind !== 'value' || !loadValues || values?.field === ctx.field) return;
    let live = true;
    loadValues(ctx.field).then(
      (list) => live && setValues({ field: ctx.field, list }),
      () => live && setValues({ field: ctx.field, list: [] }),
    );
    return () => {
      live = false;
    };
  }, [ctx, loadValues, values?.field]);

  const suggestions: Suggestion[] = useMemo(() => {
    const lc = (s: string) => s.toLowerCase();
    if (ctx.kind === 'command') {
      return COMMANDS.filter((c) => c.startsWith(lc(ctx.prefix)) && c !== lc(ctx.prefix)).map((c) => ({ label: c, insert: `${c} `, hint: 'command' }));
    }
    if (ctx.kind === 'value') {
      const list = values?.field === ctx.field ? values.list : [];
      return list.filter((v) => lc(v).includes(lc(ctx.prefix))).slice(0, 20).map((v) => ({ label: v, insert: `${quoteValue(v)} `, hint: ctx.field }));
    }
    if (ctx.kind === 'field') {
      const afterPipe = value.slice(0, caret).includes('|');
      const pool = afterPipe ? [...AGGREGATES, ...fields] : fields;
      if (!ctx.prefix) return afterPipe ? [] : pool.slice(0, 12).map((f) => ({ label: f, insert: f.endsWith('(') || f.endsWith(')') ? f : `${f}=`, hint: 'field' }));
      return pool
        .filter((f) => lc(f).startsWith(lc(ctx.prefix)) && f !== ctx.prefix)
        .slice(0, 15)
        .map((f) => ({ label: f, insert: f.endsWith('(') || f.endsWith(')') || afterPipe ? f : `${f}=`, hint: AGGREGATES.includes(f) ? 'function' : 'field' }));
    }
    return [];
  }, [ctx, values, fields, value, caret]);

  const apply = (s: Suggestion) => {
    if (ctx.kind === 'none') return;
    let start = ctx.start;
    if (ctx.kind === 'value' && value[start - 1] === '"') start--;
    const end = caret + (value.slice(caret).match(/^[^\s()|]*/)?.[0].length ?? 0);
    const next = value.slice(0, start) + s.insert + value.slice(end);
    onChange(next);
    const pos = start + s.insert.length;
    requestAnimationFrame(() => {
      ta.current?.setSelectionRange(pos, pos);
      setCaret(pos);
    });
    setActive(0);
    setOpen(!s.insert.endsWith(' ') || ctx.kind === 'command');
  };

  const tokens = tokenize(value);
  const errPos = error?.position;
  const showList = open && suggestions.length > 0;

  return (
    <div className="querybar">
      <div className={`qb-field ${error ? 'has-error' : ''}`}>
        <pre className="qb-hl" aria-hidden="true">
          {tokens.map((t, i) => {
            if (errPos !== undefined && errPos >= t.start && errPos < t.start + t.text.length) {
              const k = errPos - t.start;
              return (
                <span key={i} className={`tk-${t.kind}`}>
                  {t.text.slice(0, k)}
                  <span className="tk-error">{t.text.slice(k)}</span>
                </span>
              );
            }
            return (
              <span key={i} className={`tk-${t.kind}`}>
                {t.text}
              </span>
            );
          })}
          {errPos !== undefined && errPos >= value.length && <span className="tk-error tk-eol"> </span>}
          {'\n'}
        </pre>
        <textarea
          ref={ta}
          className="qb-input"
          aria-label="query"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          rows={1}
          value={value}
          placeholder={placeholder}
          onChange={(e) => {
            onChange(e.target.value.replace(/\n/g, ' '));
            setCaret(e.target.selectionStart);
            setOpen(true);
            setActive(0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onFocus={() => setOpen(true)}
          onKeyDown={(e) => {
            if (showList && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
              e.preventDefault();
              setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length);
            } else if (showList && e.key === 'Tab') {
              e.preventDefault();
              apply(suggestions[active]!);
            } else if (e.key === 'Enter') {
              e.preventDefault();
              if (showList && active > 0) apply(suggestions[active]!);
              else {
                setOpen(false);
                onSubmit(value);
              }
            } else if (e.key === 'Escape') setOpen(false);
          }}
        />
        {showList && (
          <ul className="qb-suggest" role="listbox" aria-label="suggestions">
            {suggestions.map((s, i) => (
              <li
                key={s.label}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'active' : ''}
                onMouseDown={(e) => {
                  e.preventDefault();
                  apply(s);
                }}
              >
                <span>{s.label}</span>
                {s.hint && <em>{s.hint}</em>}
              </li>
            ))}
          </ul>
        )}
      </div>
      {error && (
        <div className="qb-error" role="alert">
          ⚠ {error.message}
        </div>
      )}
    </div>
  );
}
