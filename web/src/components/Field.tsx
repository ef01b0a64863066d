/** A labelled form field with the server's error for it shown underneath. */
import { useState, type ReactNode } from 'react';

/** One field: its label wraps the control, so the label names it for screen readers and tests. */
export function Field({ label, error, hint, children, className }: { label: ReactNode; error?: string; hint?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`field ${error ? 'has-error' : ''} ${className ?? ''}`}>
      <label>
        {label}
        {children}
      </label>
      {hint && <div className="hint">{hint}</div>}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

/** The message of the form as a whole (what the server said that names no field). */
export function FormError({ error }: { error?: string }) {
  return error ? (
    <div className="form-error" role="alert">
      {error}
    </div>
  ) : null;
}

/** What a signed-in user whose role is too weak sees instead of a management page. */
export function NeedsRole({ what, role }: { what: string; role: 'admin' | 'responder' }) {
  return (
    <div className="state empty" data-testid="needs-role">
      <strong>
        {what} needs {role === 'admin' ? 'an admin' : 'a responder or an admin'}.
      </strong>
      <div className="hint">Your role can look but not change this. Ask an admin of this Vigil.</div>
    </div>
  );
}

/** A destructive button that asks again in place (no browser dialog) before it acts. */
export function ConfirmButton({ label, confirm, onConfirm, disabled }: { label: string; confirm: string; onConfirm: () => void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className="btn small danger" onClick={() => setAsking(true)} disabled={disabled}>
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <button
        type="button"
        className="btn small danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirm}
      </button>
      <button type="button" className="btn small ghost" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
