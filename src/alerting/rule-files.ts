/**
 * The rules directory: every `*.yml` / `*.yaml` file in it (dot-files skipped), loaded with
 * {@link parseRuleFile}, watched, and written back when rules are created or edited through the API.
 *
 * - A file with errors stays at its last good version (like the monitors directory), and its errors
 *   are reported, so a half-saved edit never removes rules.
 * - Writes go through the `yaml` package's Document API (parse → set/delete key by key → print), so the
 *   comments and key order of everything the write does not touch survive — a rule edited in the UI
 *   comes back into its file as a person would have edited it.
 * - Every write is checked by parsing the resulting text as a rule file first, is atomic (temporary
 *   file + rename), and reloads at once: listeners hear of it without waiting for the watcher.
 * - Only plain file names inside the directory are written (`ui.yml`, never `../x.yml`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, Document, YAMLMap, type Node } from 'yaml';
import type { AlertingFileError, RuleDetail, RuleInput, RuleWriteRequest } from '../api/contract.ts';
import { formatFileError, watchDir } from '../monitors/files.ts';
import { formatPromDuration } from './duration.ts';
import { parseRuleFile, RULE_KEYS } from './rule.ts';
import type { RuleGroupSpec, RuleSpec } from './types.ts';

/** A refused rule write: `status` 404 for an unknown rule, 409 for a file that has errors now, 400 for invalid content. */
export class RuleFileError extends Error {
  status?: number;
  errors: AlertingFileError[];

  constructor(message: string, errors: AlertingFileError[] = [], status?: number) {
    super(message);
    this.name = 'RuleFileError';
    this.errors = errors;
    this.status = status;
  }
}

/** Names of files Vigil writes: plain names in the directory, no paths, no dot-files. */
const WRITABLE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.ya?ml$/;
/** Rule files the directory loads. */
const RULE_FILE = /\.ya?ml$/i;
/** Printing options: no folding of long queries onto several lines. */
const PRINT = { lineWidth: 0 } as const;

/** One loaded file: its last good text and what it yields. */
interface LoadedFile {
  text: string;
  groups: RuleGroupSpec[];
}

type Listener = (groups: RuleGroupSpec[], errors: AlertingFileError[]) => void;

/** The rules directory; see the module comment. */
export class RuleFiles {
  private files = new Map<string, LoadedFile>();
  private fileErrors: AlertingFileError[] = [];
  private byId = new Map<string, RuleSpec>();
  private readonly listeners = new Set<Listener>();

  constructor(readonly dir: string) {}

  /** (Re)reads every rule file; broken files keep their last good version. Returns all groups. */
  load(): RuleGroupSpec[] {
    const next = new Map<string, LoadedFile>();
    const errors: AlertingFileError[] = [];
    const names = existsSync(this.dir) ? readdirSync(this.dir).filter((f) => RULE_FILE.test(f) && !f.startsWith('.')).sort() : [];
    for (const name of names) {
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), 'utf8');
      } catch (err) {
        errors.push({ file: name, line: null, field: null, message: `cannot read the file: ${(err as Error).message}` });
        const prev = this.files.get(name);
        if (prev) next.set(name, prev);
        continue;
      }
      const parsed = parseRuleFile(name, text);
      if (parsed.errors.length) {
        errors.push(...parsed.errors);
        const prev = this.files.get(name);
        if (prev) next.set(name, prev);
      } else next.set(name, { text, groups: parsed.groups });
    }
    this.files = next;
    this.fileErrors = errors;
    this.byId = new Map(this.groups().flatMap((g) => g.rules.map((r) => [r.id, r] as const)));
    return this.groups();
  }

  /** Every group in force, files in name order. */
  groups(): RuleGroupSpec[] {
    return [...this.files.values()].flatMap((f) => f.groups);
  }

  /** Errors of the last load (files kept at their last good version, or never loaded). */
  errors(): AlertingFileError[] {
    return this.fileErrors;
  }

  /** Watches the directory; `onChange` hears every reload, including those after this object's own writes. */
  watch(onChange: Listener): { close(): void } {
    this.listeners.add(onChange);
    const watcher = watchDir(this.dir, () => {
      const groups = this.load();
      onChange(groups, this.fileErrors);
    });
    return {
      close: () => {
        this.listeners.delete(onChange);
        watcher.close();
      },
    };
  }

  /** A rule as the API shows it: its keys as written, its YAML (comments kept) and where it lives. */
  ruleDetail(id: string): RuleDetail | undefined {
    const rule = this.byId.get(id);
    const loaded = rule && this.files.get(rule.position.file);
    if (!rule || !loaded) return undefined;
    const doc = parseDocument(loaded.text);
    const node = doc.getIn(['groups', rule.position.groupIndex, 'rules', rule.position.ruleIndex], true);
    if (!isMap(node)) return undefined;
    const interval = doc.getIn(['groups', rule.position.groupIndex, 'interval']);
    return {
      id,
      group: rule.group,
      interval: typeof interval === 'string' ? interval : formatPromDuration(rule.intervalMs),
      file: rule.position.file,
      line: rule.position.line,
      rule: toRuleInput(node.toJSON() as Record<string, unknown>),
      yaml: printNode(node),
    };
  }

  /** Appends a rule to `group` of `file` (default `ui` in `ui.yml`), creating both as needed. */
  createRule(req: RuleWriteRequest): RuleDetail {
    const file = req.file ?? 'ui.yml';
    const group = req.group ?? 'ui';
    checkFileName(file);
    if (group.trim() === '') throw new RuleFileError('group: expected a group name', [{ file, line: null, field: 'group', message: 'expected a group name' }], 400);
    const path = join(this.dir, file);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    const doc = current === null || current.trim() === '' ? newRuleDocument() : this.editableDocument(file, current);
    let groups = doc.get('groups', true);
    if (!isSeq(groups)) {
      doc.set('groups', doc.createNode([]));
      groups = doc.get('groups', true);
    }
    const seq = groups as unknown as { items: unknown[] };
    let gi = seq.items.findIndex((g) => isMap(g) && g.get('name') === group);
    const ruleNode = doc.createNode(toRuleObject(req.rule));
    if (gi < 0) {
      const g: Record<string, unknown> = { name: group };
      if (req.interval) g.interval = req.interval;
      g.rules = [];
      doc.addIn(['groups'], doc.createNode(g));
      gi = seq.items.length - 1;
    } else if (req.interval && doc.getIn(['groups', gi, 'interval']) !== req.interval) {
      doc.setIn(['groups', gi, 'interval'], req.interval);
    }
    const rules = doc.getIn(['groups', gi, 'rules'], true);
    if (!isSeq(rules)) doc.setIn(['groups', gi, 'rules'], doc.createNode([]));
    doc.addIn(['groups', gi, 'rules'], ruleNode);
    const ri = (doc.getIn(['groups', gi, 'rules'], true) as unknown as { items: unknown[] }).items.length - 1;
    return this.write(file, doc, gi, ri);
  }

  /**
   * Rewrites a rule in its file: changed keys are set (a scalar keeps its node, so its comment stays),
   * removed keys deleted, new keys appended; nested mappings (labels, metric, …) are merged the same way.
   */
  updateRule(id: string, rule: RuleInput): RuleDetail {
    const { file, doc, gi, ri } = this.locate(id);
    const node = doc.getIn(['groups', gi, 'rules', ri], true);
    if (!isMap(node)) throw new RuleFileError(`no rule "${id}"`, [], 404);
    mergeMap(doc, node, toRuleObject(rule));
    return this.write(file, doc, gi, ri);
  }

  /** Removes a rule from its file (its group stays, possibly with no rules). */
  deleteRule(id: string): void {
    const { file, doc, gi, ri } = this.locate(id);
    doc.deleteIn(['groups', gi, 'rules', ri]);
    this.write(file, doc, null, null);
  }

  /** One rule (in a group of its own, as in its file) or every rule, as the text of a rule file. */
  exportYaml(id?: string): string {
    const out = newRuleDocument();
    const groups: Node[] = [];
    if (id !== undefined) {
      const rule = this.byId.get(id);
      const loaded = rule && this.files.get(rule.position.file);
      if (!rule || !loaded) throw new RuleFileError(`no rule "${id}"`, [], 404);
      const doc = parseDocument(loaded.text);
      const g: Record<string, unknown> = { name: rule.group };
      const interval = doc.getIn(['groups', rule.position.groupIndex, 'interval']);
      if (interval !== undefined) g.interval = interval;
      g.rules = [];
      const groupNode = out.createNode(g) as YAMLMap;
      const rules = groupNode.get('rules', true) as unknown as { items: unknown[] };
      rules.items.push((doc.getIn(['groups', rule.position.groupIndex, 'rules', rule.position.ruleIndex], true) as Node).clone());
      groups.push(groupNode);
    } else {
      // Group names must be unique in one file: a name used by several files gets its file's name.
      const used = new Set<string>();
      for (const [file, loaded] of this.files) {
        const doc = parseDocument(loaded.text);
        const seq = doc.get('groups', true);
        if (!isSeq(seq)) continue;
        for (const item of seq.items) {
          if (!isMap(item)) continue;
          const g = item.clone() as YAMLMap;
          const name = String(g.get('name'));
          if (used.has(name)) g.set('name', `${name} (${file})`);
          used.add(String(g.get('name')));
          g.commentBefore = ` from ${file}${g.commentBefore ? `\n${g.commentBefore}` : ''}`;
          groups.push(g);
        }
      }
    }
    out.set('groups', out.createNode(groups));
    return out.toString(PRINT);
  }

  // ---- writing -----------------------------------------------------------------------------------

  /** The file's current text as a document, refusing a file that has errors now (its rules are its last good version). */
  private editableDocument(file: string, text: string): Document {
    const parsed = parseRuleFile(file, text);
    if (parsed.errors.length) {
      throw new RuleFileError(`${file} has errors; fix the file before changing it here:\n${parsed.errors.map(formatFileError).join('\n')}`, parsed.errors, 409);
    }
    return parseDocument(text);
  }

  /** A rule's file, document and indexes in the file as it is now. */
  private locate(id: string): { file: string; doc: Document; gi: number; ri: number } {
    const known = this.byId.get(id);
    if (!known) throw new RuleFileError(`no rule "${id}"`, [], 404);
    const file = known.position.file;
    const path = join(this.dir, file);
    if (!existsSync(path)) throw new RuleFileError(`no rule "${id}": ${file} is gone`, [], 404);
    const text = readFileSync(path, 'utf8');
    const doc = this.editableDocument(file, text);
    // The file may have changed since it was loaded: find the rule by id in its current text.
    for (const g of parseRuleFile(file, text).groups) {
      const r = g.rules.find((x) => x.id === id);
      if (r) return { file, doc, gi: r.position.groupIndex, ri: r.position.ruleIndex };
    }
    throw new RuleFileError(`no rule "${id}"`, [], 404);
  }

  /** Validates and writes a document, reloads, tells listeners, and answers the rule at (gi, ri). */
  private write(file: string, doc: Document, gi: number | null, ri: number | null): RuleDetail {
    const text = doc.toString(PRINT);
    const parsed = parseRuleFile(file, text);
    if (parsed.errors.length) throw new RuleFileError(parsed.errors.map(formatFileError).join('\n'), parsed.errors, 400);
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, file);
    const tmp = join(this.dir, `.${file}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path);
    const groups = this.load();
    for (const l of this.listeners) l(groups, this.fileErrors);
    if (gi === null || ri === null) return undefined as unknown as RuleDetail;
    // Without errors every group of the file is kept, so indexes match the file's.
    const rule = parsed.groups[gi]?.rules.find((r) => r.position.ruleIndex === ri);
    const detail = rule && this.ruleDetail(rule.id);
    if (!detail) throw new Error(`rule written to ${file} but not found after reloading`);
    return detail;
  }
}

function checkFileName(file: string): void {
  if (!WRITABLE_NAME.test(file)) {
    const message = 'expected a file name in the rules directory such as ui.yml (letters, digits, . _ -; ending in .yml or .yaml)';
    throw new RuleFileError(`file: ${message}`, [{ file, line: null, field: 'file', message }], 400);
  }
}

function newRuleDocument(): Document {
  const doc = new Document({ groups: [] });
  doc.commentBefore = ' Alerting rules (Prometheus rule-file format; see docs/alerting-rules.md).\n Edited by hand or in Vigil: comments and order are kept.';
  return doc;
}

/** A rule node printed on its own, with its comments. */
function printNode(node: Node): string {
  const doc = new Document();
  doc.contents = node.clone() as Node;
  return doc.toString(PRINT);
}

/** Whether a value is a plain object (a YAML mapping). */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A RuleInput as the mapping written into a file: rule keys in their usual order (unknown keys after
 * them, so the parser names them), empty text and empty mappings dropped — except `baseline: {}`,
 * which turns the baseline on with its defaults.
 */
export function toRuleObject(input: RuleInput): Record<string, unknown> {
  const src = input as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const keys = [...RULE_KEYS, ...Object.keys(src).filter((k) => !(RULE_KEYS as readonly string[]).includes(k))];
  for (const key of keys) {
    const v = clean(src[key], key === 'baseline');
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function clean(v: unknown, keepEmpty = false): unknown {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (Array.isArray(v)) return v.length ? v : undefined;
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const c = clean(x);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length || keepEmpty ? out : undefined;
  }
  return v;
}

/** A rule's mapping from its file as the API's RuleInput (values as text where the contract says text). */
export function toRuleInput(js: Record<string, unknown>): RuleInput {
  const text = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
  const textMap = (v: unknown): Record<string, string> | undefined =>
    isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? '' : String(x)])) : undefined;
  const out: RuleInput = { alert: String(js.alert ?? '') };
  if (js.expr !== undefined) out.expr = text(js.expr);
  if (isObject(js.metric)) {
    const m = js.metric;
    const metric: NonNullable<RuleInput['metric']> = { name: String(m.name ?? '') };
    if (m.agg !== undefined) metric.agg = text(m.agg);
    if (m.service !== undefined) metric.service = text(m.service);
    if (m.where !== undefined) metric.where = textMap(m.where);
    if (m.group_by !== undefined) metric.group_by = text(m.group_by);
    if (m.horizon !== undefined) metric.horizon = text(m.horizon);
    out.metric = metric;
  }
  if (isObject(js.monitor)) {
    const m = js.monitor;
    const monitor: NonNullable<RuleInput['monitor']> = {};
    if (m.id !== undefined) monitor.id = text(m.id);
    if (m.system !== undefined) monitor.system = text(m.system);
    if (Array.isArray(m.states)) monitor.states = m.states as ('down' | 'degraded')[];
    out.monitor = monitor;
  }
  for (const key of ['range', 'for', 'keep_firing_for', 'condition', 'resolve_when'] as const) {
    if (js[key] !== undefined && js[key] !== null) out[key] = String(js[key]);
  }
  if (isObject(js.baseline)) {
    const b = js.baseline;
    const baseline: NonNullable<RuleInput['baseline']> = {};
    if (typeof b.windows === 'number') baseline.windows = b.windows;
    if (typeof b.days === 'number') baseline.days = b.days;
    if (typeof b.fill_missing === 'boolean') baseline.fill_missing = b.fill_missing;
    out.baseline = baseline;
  }
  if (js.labels !== undefined) out.labels = textMap(js.labels) ?? {};
  if (js.annotations !== undefined) out.annotations = textMap(js.annotations) ?? {};
  return out;
}

/** Deep equality of plain YAML values. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  // `for: 0` in a file and `for: "0"` from the API are the same value.
  if ((typeof a === 'number' || typeof a === 'boolean') && typeof b === 'string') return String(a) === b;
  return false;
}

/** Sets `obj` into the mapping key by key, keeping the nodes (and comments) of what does not change. */
function mergeMap(doc: Document, map: YAMLMap, obj: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(obj)) {
    const cur = map.get(key, true) as unknown;
    if (cur === undefined) {
      map.set(doc.createNode(key), doc.createNode(value));
      continue;
    }
    if (same((cur as Node).toJSON?.() ?? cur, value)) continue;
    if (isScalar(cur) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      cur.value = value;
      // A plain or quoted style chosen for the old value may not suit the new one; let the printer choose.
      if (typeof value === 'string' && /[\n]/.test(value)) cur.type = undefined;
    } else if (isMap(cur) && isObject(value)) mergeMap(doc, cur, value);
    else map.set(key, doc.createNode(value));
  }
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!(key in obj)) map.delete(pair.key);
  }
}
