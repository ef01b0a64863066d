/**
 * Monitors as code: YAML files in the monitors directory, each holding a list of monitors
 * (`monitors: [...]` or a bare list). Errors name the file, the line and the field. A file with any
 * error is left as it was last loaded, so a half-saved edit never removes monitors.
 */
import { existsSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { describeIssues, monitorSpecSchema, type MonitorSpec } from './spec.ts';

/** A problem in a monitors file. */
export interface FileError {
  file: string;
  line: number | null;
  field: string | null;
  message: string;
}

/** Formats an error as `file:line: field: message`. */
export function formatFileError(e: FileError): string {
  return `${e.file}${e.line ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** What one file yields: monitors when it is valid, errors otherwise. */
export interface ParsedFile {
  file: string;
  monitors: MonitorSpec[];
  errors: FileError[];
}

/** Parses one monitors file's text; pure. */
export function parseMonitorsFile(file: string, text: string): ParsedFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: FileError[] = doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, field: null, message: e.message.split('\n')[0]! }));
  if (errors.length) return { file, monitors: [], errors };
  const root: unknown = doc.toJS();
  let list: unknown;
  let prefix: (string | number)[] = [];
  if (Array.isArray(root)) list = root;
  else if (root && typeof root === 'object' && 'monitors' in root) {
    list = (root as { monitors: unknown }).monitors;
    prefix = ['monitors'];
  } else if (root === null || root === undefined) list = [];
  else return { file, monitors: [], errors: [{ file, line: 1, field: null, message: 'expected a list of monitors, or a mapping with key "monitors"' }] };
  if (!Array.isArray(list)) return { file, monitors: [], errors: [{ file, line: lineOf(doc, lc, prefix), field: 'monitors', message: 'expected a list' }] };
  const monitors: MonitorSpec[] = [];
  list.forEach((item, i) => {
    const r = monitorSpecSchema.safeParse(item);
    if (r.success) {
      monitors.push(r.data);
      return;
    }
    const itemName = item && typeof item === 'object' && 'id' in item ? String((item as { id: unknown }).id) : `#${i + 1}`;
    for (const issue of r.error.issues) {
      const path = [...prefix, i, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      const [message] = describeIssues({ issues: [issue] } as never).map((m) => m.slice(m.indexOf(': ') + 2));
      const text = /received undefined$/.test(message ?? '') ? 'required' : (message ?? issue.message);
      errors.push({ file, line: lineOf(doc, lc, path), field: `${fieldPath(path)} (monitor ${itemName})`, message: text });
    }
  });
  const seen = new Set<string>();
  for (const m of monitors) {
    if (seen.has(m.id)) errors.push({ file, line: null, field: 'id', message: `monitor id "${m.id}" is used twice` });
    seen.add(m.id);
  }
  return errors.length ? { file, monitors: [], errors } : { file, monitors, errors: [] };
}

function fieldPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The line of the deepest node that exists along `path`. */
function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
    // A missing key: point at the mapping that should hold it.
    const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents;
    if (n > 0 && (isMap(parent) || isSeq(parent)) && parent.range) return lc.linePos(parent.range[0]).line;
  }
  return null;
}

/** All monitors of a directory, and every error; `previous` supplies the last good monitors of broken files. */
export function loadMonitorsDir(dir: string, previous: ReadonlyMap<string, MonitorSpec[]> = new Map()): { byFile: Map<string, MonitorSpec[]>; errors: FileError[] } {
  const byFile = new Map<string, MonitorSpec[]>();
  const errors: FileError[] = [];
  if (!existsSync(dir)) return { byFile, errors };
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith('.')).sort();
  const owner = new Map<string, string>();
  for (const name of files) {
    const path = join(dir, name);
    let parsed: ParsedFile;
    try {
      parsed = parseMonitorsFile(name, readFileSync(path, 'utf8'));
    } catch (err) {
      parsed = { file: name, monitors: [], errors: [{ file: name, line: null, field: null, message: (err as Error).message }] };
    }
    errors.push(...parsed.errors);
    let monitors = parsed.errors.length ? (previous.get(name) ?? []) : parsed.monitors;
    // An id defined in two files: the first file (by name) keeps it.
    monitors = monitors.filter((m) => {
      const other = owner.get(m.id);
      if (other) {
        errors.push({ file: name, line: null, field: 'id', message: `monitor id "${m.id}" is already defined in ${other}` });
        return false;
      }
      owner.set(m.id, name);
      return true;
    });
    byFile.set(name, monitors);
  }
  return { byFile, errors };
}

/** Watches a directory for changes (fs.watch, with a polling fallback) and calls `onChange` debounced. */
export function watchDir(dir: string, onChange: () => void, debounceMs = 300): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, fire);
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  // Polling also covers file systems where fs.watch misses events (network mounts, some containers).
  let lastSignature = signature(dir);
  const poll = setInterval(() => {
    const s = signature(dir);
    if (s !== lastSignature) {
      lastSignature = s;
      fire();
    }
  }, 2000);
  poll.unref();
  return {
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}

function signature(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/i.test(f))
      .map((f) => {
        const s = statSync(join(dir, f));
        return `${f}:${s.mtimeMs}:${s.size}`;
      })
      .join('|');
  } catch {
    return '';
  }
}
