/**
 * Puts the API's error messages next to the fields they are about. The server names the field as a
 * `path: message` prefix (monitors, status pages: `url: expected an absolute http(s) URL; interval: …`)
 * or in words (users, tokens: `invalid username "x": …`, `a token named "x" already exists`).
 */

/** Errors by field name; `_form` holds what names no field. */
export type FieldErrors = Record<string, string>;

/**
 * Splits a server message into per-field errors. `fields` are the form's field paths (`expect.status`,
 * `components`); a message path belongs to the longest field it starts with. `words` map phrases in
 * unprefixed messages to a field.
 */
export function errorsByField(message: string, fields: readonly string[], words: Record<string, string> = {}): FieldErrors {
  const out: FieldErrors = {};
  const add = (key: string, text: string) => (out[key] = out[key] ? `${out[key]}; ${text}` : text);
  for (const part of message.split('; ')) {
    const m = /^([\w.[\]-]+|\(monitor\)): (.+)$/s.exec(part);
    const path = m?.[1];
    const field = path ? [...fields].sort((a, b) => b.length - a.length).find((f) => path === f || path.startsWith(`${f}.`)) : undefined;
    if (field) {
      add(field, m![2]!);
      continue;
    }
    const lower = part.toLowerCase();
    const word = Object.keys(words).find((w) => lower.includes(w));
    add(word ? words[word]! : '_form', part);
  }
  return out;
}
