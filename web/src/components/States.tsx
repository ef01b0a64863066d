/** Loading, error and empty states that say what is happening and what to do next. */
import type { ReactNode } from 'react';

/** A loading placeholder. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </div>
  );
}

/** An error with the server's message, a hint and a retry. */
export function ErrorState({ error, retry, hint }: { error: Error; retry?: () => void; hint?: ReactNode }) {
  return (
    <div className="state error" role="alert">
      <strong>Could not load this.</strong> <span className="msg">{error.message}</span>
      {hint && <div className="hint">{hint}</div>}
      {retry && (
        <button type="button" className="btn small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Nothing to show, with what to do about it. */
export function Empty({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state empty">
      <strong>{title}</strong>
      {children && <div className="hint">{children}</div>}
      {action}
    </div>
  );
}

/** A titled panel. */
export function Panel({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`panel ${className ?? ''}`}>
      {(title || actions) && (
        <header className="panel-head">
          <h2>{title}</h2>
          <div className="panel-actions">{actions}</div>
        </header>
      )}
      <div className="panel-body">{children}</div>
    </section>
  );
}
