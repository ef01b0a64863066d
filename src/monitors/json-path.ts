/**
 * A small JSON path for assertions and workflow variables: dotted keys with `[index]`, and
 * `[key=value]` to pick the first array element whose field equals a value —
 * `data.items[0].id`, `services.lms-api.url`, `users[name=ada].token`.
 */

type Segment = { key: string } | { index: number } | { field: string; equals: string };

/** Splits a path into segments; throws on a malformed path. */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]|(\.)/g;
  let m: RegExpExecArray | null;
  let last = 0;
  const text = path.startsWith('$.') ? path.slice(2) : path === '$' ? '' : path;
  while ((m = re.exec(text))) {
    if (m.index !== last) throw new Error(`invalid JSON path "${path}" at character ${m.index}`);
    last = re.lastIndex;
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) out.push({ field: m[3], equals: m[4] ?? '' });
  }
  if (last !== text.length) throw new Error(`invalid JSON path "${path}" at character ${last}`);
  return out;
}

/** The value at `path` in `doc`, or undefined when any step is missing. */
export function getPath(doc: unknown, path: string): unknown {
  let node: unknown = doc;
  for (const seg of parsePath(path)) {
    if (node === null || node === undefined) return undefined;
    if ('key' in seg) node = typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[seg.key] : undefined;
    else if ('index' in seg) node = Array.isArray(node) ? node[seg.index] : undefined;
    else node = Array.isArray(node) ? node.find((e) => e !== null && typeof e === 'object' && String((e as Record<string, unknown>)[seg.field]) === seg.equals) : undefined;
  }
  return node;
}

/** Replaces `{{name}}` with variables; an unknown name is an error, so a typo never sends a literal `{{x}}`. */
export function renderTemplate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`template variable "${name}" is not defined`);
    return v;
  });
}
