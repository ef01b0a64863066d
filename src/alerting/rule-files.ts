/**
 * The rules directory (`alerting.rulesDir`): every `*.yml`/`*.yaml` in it (dot-files skipped) is a
 * rule file (rule.ts). Loading keeps a broken file at its last good version and reports its errors, as
 * the monitors directory does, so a half-saved edit never removes rules; a watcher reloads on change.
 *
 * Rules also round-trip with the UI: reads answer a rule's keys and its YAML as written, and writes go
 * back into the rule's own file through the `yaml` package's document API (parse → set/delete key by
 * key → print), so comments, key order and quoting of everything the edit does not touch survive.
 * Because the printer also normalises spacing (`x: 1   # c` becomes `x: 1 # c`), only the text of the
 * rule that changed is taken from the printed document and spliced into the file as it was; the rest
 * of the file stays byte for byte (checked: the spliced text must read as the edited document, else
 * the whole printed document is written).
 * Every write is checked by parsing the file text it would produce (a write that would break the file
 * is refused with that file's errors), lands atomically (temporary file + rename), and is loaded at
 * once: listeners hear of it without waiting for the watcher. Only plain file names inside the
 * directory are written (`ui.yml`, never `../x.yml`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import type { AlertingFileError, RuleDetail, RuleInput, RuleWriteRequest } from '../api/contract.ts';
import { formatFileError, watchDir } from '../monitors/files.ts';
import { formatPromDuration } from './duration.ts';
import { parseRuleFile, RULE_KEYS } from './rule.ts';
import type { RuleGroupSpec, RuleSpec } from './types.ts';

/** A refused rule write or an unknown rule: `status` 404 (unknown rule), 409 (its file has errors now) or 400 (invalid content); `errors` the file's problems. */
export class RuleFileError extends Error {
  readonly status?: number;
  readonly errors: AlertingFileError[];

  constructor(message: string, status: number, errors: AlertingFileError[] = []) {
    super(message);
    this.name = 'RuleFileError';
    this.status = status;
    this.errors = errors;
  }
}

/** Called with every group and the current file errors after a change. */
export type RulesListener = (groups: RuleGroupSpec[], errors: AlertingFileError[]) => void;

/** Names a rule file may be written under: no directories, no dot-files, so a write cannot leave the rules directory. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.ya?ml$/;
/** Printing options: no line folding, so a long `expr` stays on one line as the user wrote it. */
const PRINT = { lineWidth: 0, minContentWidth: 0 } as const;
/** The comment a file created by Vigil starts with. */
const NEW_FILE_COMMENT = ' Alerting rules (Prometheus rule-file format; see docs/alerting-rules.md).\n Edited by hand or in Vigil: comments and order are kept.';

/** What a write changed, so only that part of the file's text is replaced (see {@link splice}). */
type Change = { kind: 'replace'; path: (string | number)[] } | { kind: 'append'; seq: (string | number)[] } | { kind: 'remove'; seq: (string | number)[]; index: number } | null;

/** A file as last loaded without errors; its document is kept so reads do not parse it again. */
interface GoodFile {
  text: string;
  doc: Document;
  groups: RuleGroupSpec[];
}

/** The rules directory; see the module comment. */
export class RuleFiles {
  private readonly good = new Map<string, GoodFile>();
  private readonly rules = new Map<string, { file: string; group: RuleGroupSpec; rule: RuleSpec }>();
  private fileErrors: AlertingFileError[] = [];
  private all: RuleGroupSpec[] = [];
  /** Disk texts at the last load, so a watcher event for a write already loaded changes nothing; null before the first load. */
  private texts: Map<string, string> | null = null;
  private readonly listeners = new Set<RulesListener>();

  constructor(readonly dir: string) {}

  /** Loads (or reloads) the directory and answers every group, files in name order. */
  load(): RuleGroupSpec[] {
    this.reload();
    return this.all;
  }

  /** The groups as last loaded. */
  groups(): RuleGroupSpec[] {
    return this.all;
  }

  /** Problems of the files as last loaded (files with errors are kept at their last good version, or yield nothing). */
  errors(): AlertingFileError[] {
    return this.fileErrors;
  }

  /** Watches the directory; `onChange` runs after a change on disk and after every write through this object. */
  watch(onChange: RulesListener): { close(): void } {
    this.listeners.add(onChange);
    const watcher = watchDir(this.dir, () => {
      if (this.reload()) this.notify();
    });
    return {
      close: () => {
        watcher.close();
        this.listeners.delete(onChange);
      },
    };
  }

  /** One rule with its keys as written, its YAML (comments kept) and where it lives; undefined for an unknown id. */
  ruleDetail(id: string): RuleDetail | undefined {
    const entry = this.rules.get(id);
    const file = entry && this.good.get(entry.file);
    if (!entry || !file) return undefined;
    const { groupIndex, ruleIndex, line } = entry.rule.position;
    const node = file.doc.getIn(['groups', groupIndex, 'rules', ruleIndex], true);
    if (!isMap(node)) return undefined;
    // The interval as written (`90s` stays `90s`), else the default.
    const written = file.doc.getIn(['groups', groupIndex, 'interval']);
    return {
      id,
      group: entry.group.name,
      interval: typeof written === 'string' ? written : formatPromDuration(entry.group.intervalMs),
      file: entry.file,
      line,
      rule: ruleInputOf(node),
      yaml: ruleText(file.text, node) ?? nodeText(node),
    };
  }

  /** Appends a rule to `group` of `file` (default `ui` in `ui.yml`), creating both as needed; answers the new rule. */
  createRule(req: RuleWriteRequest): RuleDetail {
    const file = req.file ?? 'ui.yml';
    const groupName = req.group ?? 'ui';
    if (typeof groupName !== 'string' || groupName.trim() === '') throw new RuleFileError('group: expected a group name', 400);
    const rule = cleanInput(req.rule);
    const interval = typeof req.interval === 'string' && req.interval.trim() !== '' ? req.interval : undefined;
    let at: { groupIndex: number; ruleIndex: number } | undefined;
    this.write(file, true, (doc): Change => {
      const groups = seqAt(doc, doc.contents as YAMLMap, 'groups');
      let gi = groups.items.findIndex((g) => isMap(g) && g.get('name') === groupName);
      let change: Change;
      if (gi < 0) {
        const group: Record<string, unknown> = { name: groupName };
        if (interval !== undefined) group.interval = interval;
        group.rules = [];
        groups.items.push(doc.createNode(group));
        gi = groups.items.length - 1;
        change = { kind: 'append', seq: ['groups'] };
      } else {
        change = { kind: 'append', seq: ['groups', gi, 'rules'] };
        if (interval !== undefined && (groups.items[gi] as YAMLMap).get('interval') !== interval) {
          // The interval is the group's: asking for one on an existing group changes it for its rules.
          setValue(doc, groups.items[gi] as YAMLMap, 'interval', interval);
          change = null;
        }
      }
      const rules = seqAt(doc, groups.items[gi] as YAMLMap, 'rules');
      rules.items.push(doc.createNode(rule));
      at = { groupIndex: gi, ruleIndex: rules.items.length - 1 };
      return change;
    });
    return this.detailAt(file, at!);
  }

  /**
   * Rewrites a rule in place, key by key: unchanged keys keep their nodes (comments, quoting), removed
   * keys are deleted, new keys appended; nested mappings (labels, metric, …) are merged the same way.
   * Answers the rule as written (its id changes with its name).
   */
  updateRule(id: string, input: RuleInput): RuleDetail {
    const rule = cleanInput(input);
    const { file, groupIndex, ruleIndex } = this.locate(id);
    this.write(file, false, (doc): Change => {
      const node = doc.getIn(['groups', groupIndex, 'rules', ruleIndex], true);
      if (!isMap(node)) throw new RuleFileError(`no rule "${id}"`, 404);
      mergeMap(doc, node, rule);
      return { kind: 'replace', path: ['groups', groupIndex, 'rules', ruleIndex] };
    });
    return this.detailAt(file, { groupIndex, ruleIndex });
  }

  /** Deletes a rule from its file (its group stays, possibly without rules). */
  deleteRule(id: string): void {
    const { file, groupIndex, ruleIndex } = this.locate(id);
    this.write(file, false, (doc): Change => {
      doc.deleteIn(['groups', groupIndex, 'rules', ruleIndex]);
      return { kind: 'remove', seq: ['groups', groupIndex, 'rules'], index: ruleIndex };
    });
  }

  /** A rule (in its group, with the group's interval) or every loaded rule, as one rule file's text. */
  exportYaml(id?: string): string {
    const out = new Document({ groups: [] });
    const groups = out.get('groups', true) as unknown as YAMLSeq;
    if (id !== undefined) {
      const detail = this.ruleDetail(id);
      const entry = this.rules.get(id);
      const file = entry && this.good.get(entry.file);
      const node = entry && file?.doc.getIn(['groups', entry.rule.position.groupIndex, 'rules', entry.rule.position.ruleIndex], true);
      if (!detail || !isMap(node)) throw new RuleFileError(`no rule "${id}"`, 404);
      const group = out.createNode({ name: detail.group, interval: detail.interval, rules: [] }) as YAMLMap;
      (group.get('rules', true) as unknown as YAMLSeq).items.push(node.clone());
      groups.items.push(group);
      return out.toString(PRINT);
    }
    // Group names are unique per file only; in one exported file a repeated name gets its file's name.
    const used = new Set<string>();
    for (const name of [...this.good.keys()].sort()) {
      const seq = this.good.get(name)!.doc.get('groups', true);
      if (!isSeq(seq)) continue;
      seq.items.forEach((g, i) => {
        if (!isMap(g)) return;
        const copy = g.clone() as YAMLMap;
        let groupName = String(copy.get('name'));
        if (used.has(groupName)) {
          groupName = `${groupName} (${name})`;
          copy.set('name', groupName);
        }
        used.add(groupName);
        if (i === 0) copy.commentBefore = ` from ${name}${copy.commentBefore ? `\n${copy.commentBefore}` : ''}`;
        groups.items.push(copy);
      });
    }
    return out.toString(PRINT);
  }

  // ---- loading ------------------------------------------------------------------------------------

  /** Reads the directory; answers whether anything changed since the last load. */
  private reload(): boolean {
    const texts = new Map<string, string>();
    const unreadable: AlertingFileError[] = [];
    if (existsSync(this.dir)) {
      const names = readdirSync(this.dir)
        .filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith('.'))
        .sort();
      for (const name of names) {
        try {
          texts.set(name, readFileSync(join(this.dir, name), 'utf8'));
        } catch (err) {
          // Vanished between listing and reading, unreadable, or a directory named *.yml.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push({ file: name, line: null, field: null, message: `cannot read the file: ${(err as Error).message}` });
        }
      }
    }
    if (this.texts !== null && unreadable.length === 0 && sameTexts(texts, this.texts)) return false;
    this.texts = texts;
    const errors: AlertingFileError[] = [...unreadable];
    const unreadableNames = new Set(unreadable.map((e) => e.file));
    for (const name of [...this.good.keys()]) if (!texts.has(name) && !unreadableNames.has(name)) this.good.delete(name);
    for (const [name, text] of texts) {
      if (this.good.get(name)?.text === text) continue;
      const parsed = parseRuleFile(name, text);
      // A broken file: its last good version, if any, stays in force.
      if (parsed.errors.length) errors.push(...parsed.errors);
      else this.good.set(name, { text, doc: parseDocument(text), groups: parsed.groups });
    }
    this.fileErrors = errors;
    this.all = [];
    this.rules.clear();
    for (const name of [...this.good.keys()].sort()) {
      for (const group of this.good.get(name)!.groups) {
        this.all.push(group);
        for (const rule of group.rules) this.rules.set(rule.id, { file: name, group, rule });
      }
    }
    return true;
  }

  private notify(): void {
    for (const l of this.listeners) l(this.all, this.fileErrors);
  }

  // ---- writing ------------------------------------------------------------------------------------

  /** Where a rule is in its file as it is on disk now (the file may have changed since the last load). */
  private locate(id: string): { file: string; groupIndex: number; ruleIndex: number } {
    const entry = this.rules.get(id);
    if (!entry) throw new RuleFileError(`no rule "${id}"`, 404);
    const path = join(this.dir, entry.file);
    if (!existsSync(path)) throw new RuleFileError(`no rule "${id}": ${entry.file} is gone`, 404);
    const text = readFileSync(path, 'utf8');
    const parsed = parseRuleFile(entry.file, text);
    if (parsed.errors.length) throw brokenFile(entry.file, parsed.errors);
    const rule = parsed.groups.flatMap((g) => g.rules).find((r) => r.id === id);
    if (!rule) throw new RuleFileError(`no rule "${id}"`, 404);
    return { file: entry.file, groupIndex: rule.position.groupIndex, ruleIndex: rule.position.ruleIndex };
  }

  /** Edits one file through its document, checks the result, writes it atomically and loads it. */
  private write(file: string, create: boolean, edit: (doc: Document) => Change): void {
    if (typeof file !== 'string' || !FILE_NAME.test(file)) {
      throw new RuleFileError(`file: expected a file name in the rules directory such as ui.yml (letters, digits, . _ -; ending in .yml or .yaml), not ${JSON.stringify(file)}`, 400);
    }
    const path = join(this.dir, file);
    const exists = existsSync(path);
    if (!exists && !create) throw new RuleFileError(`${file} is gone`, 404);
    const text = exists ? readFileSync(path, 'utf8') : '';
    const before = parseRuleFile(file, text);
    if (before.errors.length) throw brokenFile(file, before.errors);
    const doc = parseDocument(text);
    const fresh = !isMap(doc.contents);
    if (fresh) {
      doc.contents = doc.createNode({ groups: [] }) as unknown as typeof doc.contents;
      if (text.trim() === '') doc.commentBefore = NEW_FILE_COMMENT;
    }
    const unchanged = JSON.stringify(doc.toJSON());
    const change = edit(doc);
    // Saved as it was: nothing to write (and nothing to announce).
    if (exists && JSON.stringify(doc.toJSON()) === unchanged) return;
    const printed = doc.toString(PRINT);
    const next = (!fresh && change !== null ? splice(text, printed, change, doc) : null) ?? printed;
    const after = parseRuleFile(file, next);
    if (after.errors.length) {
      const first = after.errors[0]!;
      throw new RuleFileError(`${first.field ? `${first.field}: ` : ''}${first.message}`, 400, after.errors);
    }
    mkdirSync(this.dir, { recursive: true });
    // A dot-file, so a load in between never reads the half-written file.
    const tmp = join(this.dir, `.${file}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, next);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.reload();
    this.notify();
  }

  private detailAt(file: string, at: { groupIndex: number; ruleIndex: number }): RuleDetail {
    for (const [id, e] of this.rules) {
      if (e.file === file && e.rule.position.groupIndex === at.groupIndex && e.rule.position.ruleIndex === at.ruleIndex) return this.ruleDetail(id)!;
    }
    throw new Error(`a rule was written to ${file} but is not loaded`);
  }
}

function brokenFile(file: string, errors: AlertingFileError[]): RuleFileError {
  return new RuleFileError(`${file} has errors; fix the file before changing its rules here:\n${errors.map(formatFileError).join('\n')}`, 409, errors);
}

function sameTexts(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The sequence under `key` of a mapping, created (empty) when absent or null. */
function seqAt(doc: Document, map: YAMLMap, key: string): YAMLSeq {
  const cur = map.get(key, true);
  if (isSeq(cur)) return cur;
  const seq = doc.createNode([]) as YAMLSeq;
  map.set(key, seq);
  return seq;
}

type Plain = string | number | boolean | Plain[] | { [k: string]: Plain };

/** Keys whose empty mapping means something (`monitor: {}` every monitor, `baseline: {}` the defaults). */
const KEEP_EMPTY = new Set(['monitor', 'baseline']);

/**
 * A RuleInput as the mapping written into a file: keys in the order Vigil writes them (unknown keys
 * last, so the parser names them); undefined, null, blank text and empty lists and mappings dropped, as
 * an editor form sends them for fields left empty — except `monitor: {}` and `baseline: {}`.
 */
function cleanInput(input: RuleInput): Record<string, Plain> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new RuleFileError('rule: expected an object with alert and expr, metric or monitor', 400);
  const src = input as unknown as Record<string, unknown>;
  const keys = [...RULE_KEYS.filter((k) => k in src), ...Object.keys(src).filter((k) => !(RULE_KEYS as readonly string[]).includes(k))];
  const out: Record<string, Plain> = {};
  for (const k of keys) {
    const v = clean(src[k], KEEP_EMPTY.has(k));
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function clean(v: unknown, keepEmpty = false): Plain | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    const items = v.map((x) => clean(x)).filter((x): x is Plain => x !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof v === 'object') {
    const out: Record<string, Plain> = {};
    for (const [k, x] of Object.entries(v)) {
      const c = clean(x);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length || keepEmpty ? out : undefined;
  }
  return String(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep equality of plain values; `for: 0` in a file and `"0"` from the API are the same. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  if ((typeof a === 'number' || typeof a === 'boolean') && typeof b === 'string') return String(a) === b;
  return false;
}

/** Makes `map` hold exactly `value`'s keys: untouched keys keep their nodes (and comments), removed ones go, new ones are appended. */
function mergeMap(doc: Document, map: YAMLMap, value: Record<string, Plain>): void {
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!(key in value)) map.delete(pair.key);
  }
  for (const [k, v] of Object.entries(value)) setValue(doc, map, k, v);
}

function setValue(doc: Document, map: YAMLMap, key: string, value: Plain): void {
  const cur = map.get(key, true) as Node | undefined;
  if (cur !== undefined && same(cur.toJSON(), value)) return;
  if (isObject(value) && isMap(cur)) return mergeMap(doc, cur, value as Record<string, Plain>);
  if (cur !== undefined && isScalar(cur) && typeof value !== 'object') {
    // Same node, new value: its comment stays; the printer re-quotes when the old style cannot hold the value.
    cur.value = value;
    if (typeof value === 'string' && value.includes('\n')) cur.type = undefined;
    return;
  }
  const node = doc.createNode(value) as Node & { flow?: boolean };
  // A list or mapping written in flow style ([down], {a: b}) stays in flow style.
  if (cur !== undefined && (isSeq(cur) || isMap(cur)) && cur.flow && (isSeq(node) || isMap(node))) node.flow = true;
  map.set(key, node);
}

/** A rule node as the API's RuleInput: durations, names and label values as text, the rest as written. */
function ruleInputOf(node: YAMLMap): RuleInput {
  const js = node.toJSON() as Record<string, unknown>;
  const text = (v: unknown): unknown => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
  const texts = (v: unknown): unknown => (isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? '' : String(x)])) : v);
  for (const k of ['alert', 'expr', 'range', 'for', 'keep_firing_for', 'condition', 'resolve_when']) if (k in js) js[k] = text(js[k]);
  for (const k of ['labels', 'annotations']) if (k in js) js[k] = texts(js[k]);
  if (isObject(js.metric)) {
    const m = js.metric;
    for (const k of ['name', 'agg', 'service', 'group_by', 'horizon']) if (k in m) m[k] = text(m[k]);
    if ('where' in m) m.where = texts(m.where);
  }
  if (isObject(js.monitor)) {
    const m = js.monitor;
    for (const k of ['id', 'system']) if (k in m) m[k] = text(m[k]);
  }
  return js as unknown as RuleInput;
}

/**
 * A rule's text exactly as in its file, comment lines right above it included, moved to the left
 * margin; null when the node has no usable position (then it is printed from the document).
 */
function ruleText(text: string, node: Ranged): string | null {
  if (!node.range || (node as YAMLMap).flow) return null;
  const col = column(text, node.range[0]);
  let start = lineStart(text, node.range[0]);
  start = commentsAbove(text, start, dashColumn(text, node.range[0]));
  // The item's dash becomes a space, so every line can lose the same indentation.
  const block = text.slice(start, node.range[0]).replace(/-(\s*)$/, ' $1') + text.slice(node.range[0], node.range[2]);
  const out = block
    .split('\n')
    .map((line) => line.slice(Math.min(col, line.length - line.trimStart().length)))
    .join('\n');
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** Where the comment lines directly above `start` (indented at least `indent`) begin. */
function commentsAbove(text: string, start: number, indent: number): number {
  while (start > 0) {
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start - 1);
    if (!/^\s*#/.test(line) || line.length - line.trimStart().length < indent) break;
    start = prev;
  }
  return start;
}

/** A node's YAML text on its own (its comments kept). */
function nodeText(node: Node): string {
  const d = new Document();
  d.contents = node.clone() as typeof d.contents;
  return d.toString(PRINT);
}

// ---- splicing: only the changed rule's text is replaced ---------------------------------------------

type Ranged = Node & { range?: [number, number, number] | null };

const lineStart = (text: string, pos: number): number => text.lastIndexOf('\n', pos - 1) + 1;
const column = (text: string, pos: number): number => pos - lineStart(text, pos);

/** Moves lines of `block` from indentation `from` to `to` (the printer's indent may differ from the file's); the first line too unless `skipFirst`. */
function reindent(block: string, from: number, to: number, skipFirst: boolean): string {
  if (from === to) return block;
  return block
    .split('\n')
    .map((line, i) => {
      if ((i === 0 && skipFirst) || line === '') return line;
      const lead = line.length - line.trimStart().length;
      return ' '.repeat(to) + line.slice(Math.min(lead, from));
    })
    .join('\n');
}

/** The column of the `-` that introduces a sequence item starting at `pos`. */
function dashColumn(text: string, pos: number): number {
  return column(text, text.lastIndexOf('-', pos - 1));
}

/**
 * The file's old text with only `change` applied, taken from the printed document; null when the
 * result would not read back as exactly the edited document (then the printed document is written).
 */
function splice(old: string, printed: string, change: NonNullable<Change>, edited: Document): string | null {
  const d0 = parseDocument(old);
  const d1 = parseDocument(printed);
  let out: string | null = null;
  if (change.kind === 'replace') {
    const n0 = d0.getIn(change.path, true) as Ranged | undefined;
    const n1 = d1.getIn(change.path, true) as Ranged | undefined;
    if (!isMap(n0) || !isMap(n1) || n0.flow || n1.flow || !n0.range || !n1.range) return null;
    const block = reindent(printed.slice(n1.range[0], n1.range[2]), column(printed, n1.range[0]), column(old, n0.range[0]), true);
    out = old.slice(0, n0.range[0]) + block + old.slice(n0.range[2]);
  } else if (change.kind === 'append') {
    const s0 = d0.getIn(change.seq, true) as Ranged | undefined;
    const s1 = d1.getIn(change.seq, true) as Ranged | undefined;
    if (!isSeq(s0) || !isSeq(s1) || s0.flow || s0.items.length === 0 || !s0.range) return null;
    const last0 = s0.items.at(-1) as Ranged;
    const new1 = s1.items.at(-1) as Ranged;
    if (!last0.range || !new1.range) return null;
    // The new item from its `- ` line on, with its dash where the file's items have theirs.
    let item = reindent(printed.slice(lineStart(printed, new1.range[0]), new1.range[2]), dashColumn(printed, new1.range[0]), dashColumn(old, last0.range[0]), false);
    if (!item.endsWith('\n')) item += '\n';
    const at = last0.range[2];
    out = old.slice(0, at) + (at > 0 && old[at - 1] !== '\n' ? '\n' : '') + item + old.slice(at);
  } else {
    const s0 = d0.getIn(change.seq, true) as Ranged | undefined;
    if (!isSeq(s0) || s0.flow || s0.items.length < 2) return null;
    const item = s0.items[change.index] as Ranged | undefined;
    if (!item?.range) return null;
    // Comment lines right above the item belong to it.
    const start = commentsAbove(old, lineStart(old, item.range[0]), dashColumn(old, item.range[0]));
    out = old.slice(0, start) + old.slice(item.range[2]);
  }
  const check = parseDocument(out);
  if (check.errors.length || JSON.stringify(check.toJSON()) !== JSON.stringify(edited.toJSON())) return null;
  return out;
}
