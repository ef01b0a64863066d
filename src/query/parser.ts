/**
 * Recursive-descent parser: query text → {@link Query}. Each pipe segment is lexed in the mode its
 * command needs (search words for most commands, expressions for `where` and `eval`).
 *
 * Precedence follows Splunk: in searches NOT > OR > AND (so `error OR warn service.name=checkout` means
 * `(error OR warn) AND service.name=checkout`), in expressions NOT > AND > OR as in SQL.
 */
import type { AggCall, Command, CompareOp, Dataset, Expr, FieldRef, Query, SearchNode, SearchValue, SortKey } from './ast.ts';
import { QueryError } from './errors.ts';
import { tokenize, type LexMode, type Token } from './lexer.ts';
import { AGG_FUNCTIONS, COMMANDS, DATASETS, PERCENTILE_FUNCTION } from './vocabulary.ts';

/** Aggregate functions accepted by `stats` and `timechart`. */
const AGG_SET = new Set<string>(AGG_FUNCTIONS);
const COMPARE_OPS = new Set(['=', '!=', '<', '<=', '>', '>=']);
/** Largest N accepted by head/tail/top, so a typo cannot ask for a billion rows. */
const MAX_N = 100_000;
/** Longest query text accepted: bounds the syntax tree (and so planning work) linearly. */
export const MAX_QUERY_CHARS = 65_536;
/** Deepest nesting of parentheses, NOT, unary minus and function calls; keeps recursion far from the stack limit. */
export const MAX_NESTING = 64;
/** Widest timechart span: a year, far below where engine intervals overflow. */
export const MAX_SPAN_SECONDS = 365 * 86_400;

/** Parses a query; throws {@link QueryError} with the position of the first problem. */
export function parseQuery(text: string): Query {
  return new Parser(text).parse();
}

/** Parses a time span such as `10s`, `1m`, `5m`, `1h`, `1d`; returns seconds or null when malformed. */
export function parseSpan(text: string): number | null {
  const m = /^(\d+)(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w)$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const mult = unit.startsWith('s') ? 1 : unit.startsWith('m') ? 60 : unit.startsWith('h') ? 3600 : unit.startsWith('d') ? 86400 : 604800;
  return n > 0 ? n * mult : null;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the query';
    case 'pipe':
      return "'|'";
    case 'string':
      return `"${t.text}"`;
    default:
      return `'${t.text}'`;
  }
}

class Parser {
  private toks: Token[] = [];
  private i = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parse(): Query {
    if (this.text.length > MAX_QUERY_CHARS) {
      throw new QueryError(`expected a query of at most ${MAX_QUERY_CHARS} characters but it has ${this.text.length}`, MAX_QUERY_CHARS);
    }
    this.load(0, 'search');
    let dataset: Dataset = 'logs';
    const t0 = this.peek();
    // `from spans` or `index=spans` choose the dataset; only at the very start so they stay unambiguous.
    // Any other `index=` value (Splunk's `index=main`) stays a search term on the HEC index.
    if (t0.kind === 'word' && t0.text.toLowerCase() === 'from') {
      const d = this.peek(1);
      const ds = d.kind === 'word' ? DATASETS[d.text.toLowerCase()] : undefined;
      if (!ds) throw new QueryError(`expected a dataset (logs or spans) after 'from' but found ${describe(d)}`, d.pos);
      dataset = ds;
      this.i += 2;
    } else if (t0.kind === 'word' && t0.text.toLowerCase() === 'index' && this.peek(1).kind === 'op' && this.peek(1).text === '=') {
      const d = this.peek(2);
      const ds = d.kind === 'word' || d.kind === 'string' ? DATASETS[d.text.toLowerCase()] : undefined;
      if (ds) {
        dataset = ds;
        this.i += 3;
      }
    }
    const search = this.parseSearchRoot();
    const commands: Command[] = [];
    while (this.peek().kind === 'pipe') {
      const pipe = this.peek();
      commands.push(this.parseCommand(pipe.pos + 1));
    }
    return { dataset, search, commands };
  }

  // ---- token plumbing -------------------------------------------------------------------------

  private load(start: number, mode: LexMode): void {
    this.toks = tokenize(this.text, start, mode);
    this.i = 0;
  }

  private peek(ahead = 0): Token {
    return this.toks[Math.min(this.i + ahead, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private atEnd(): boolean {
    const k = this.peek().kind;
    return k === 'eof' || k === 'pipe';
  }

  private isWord(t: Token, w: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === w;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw new QueryError(`expected ${what} but found ${describe(t)}`, t.pos);
    return this.next();
  }

  private expectEnd(what: string): void {
    if (!this.atEnd()) {
      const t = this.peek();
      throw new QueryError(`expected ${what} but found ${describe(t)}`, t.pos);
    }
  }

  /** Runs one nested parse step, refusing nesting deeper than {@link MAX_NESTING}. */
  private nested<T>(pos: number, parse: () => T): T {
    if (++this.depth > MAX_NESTING) throw new QueryError(`expected at most ${MAX_NESTING} levels of nested parentheses, NOT, minus signs or function calls`, pos);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  // ---- search ---------------------------------------------------------------------------------

  private parseSearchRoot(): SearchNode {
    const pos = this.peek().pos;
    if (this.atEnd()) return { type: 'all', pos };
    const node = this.parseSearchAnd();
    if (this.peek().kind === 'rparen') throw new QueryError(`unexpected ')' without a matching '('`, this.peek().pos);
    this.expectEnd("a search term, 'AND', 'OR' or '|'");
    return node;
  }

  private parseSearchAnd(): SearchNode {
    const pos = this.peek().pos;
    const items: SearchNode[] = [this.parseSearchOr()];
    for (;;) {
      if (this.atEnd() || this.peek().kind === 'rparen') break;
      // Explicit AND (uppercase, as in Splunk) or juxtaposition.
      if (this.peek().kind === 'word' && this.peek().text === 'AND') this.next();
      items.push(this.parseSearchOr());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items, pos };
  }

  private parseSearchOr(): SearchNode {
    const pos = this.peek().pos;
    const items: SearchNode[] = [this.parseSearchNot()];
    while (this.peek().kind === 'word' && this.peek().text === 'OR') {
      this.next();
      items.push(this.parseSearchNot());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items, pos };
  }

  private parseSearchNot(): SearchNode {
    const t = this.peek();
    if (t.kind === 'word' && t.text === 'NOT') {
      this.next();
      return { type: 'not', item: this.nested(t.pos, () => this.parseSearchNot()), pos: t.pos };
    }
    return this.parseSearchPrimary();
  }

  private parseSearchPrimary(): SearchNode {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      if (this.peek().kind === 'rparen') throw new QueryError(`expected a search term inside '(' ')'`, this.peek().pos);
      const inner = this.nested(t.pos, () => this.parseSearchAnd());
      this.expect('rparen', "')' to close the '(' at position " + t.pos);
      return inner;
    }
    if (t.kind === 'word' && (t.text === 'AND' || t.text === 'OR')) {
      throw new QueryError(`expected a search term before '${t.text}'`, t.pos);
    }
    if (t.kind === 'word' || t.kind === 'field') {
      const after = this.peek(1);
      if (after.kind === 'op' && COMPARE_OPS.has(after.text)) {
        this.next();
        this.next();
        const v = this.peek();
        if (v.kind !== 'word' && v.kind !== 'string') {
          throw new QueryError(`expected a value after '${after.text}' but found ${describe(v)}`, v.pos);
        }
        this.next();
        return { type: 'compare', field: t.text, fieldPos: t.pos, op: after.text as CompareOp, value: this.value(v), pos: t.pos };
      }
      if (after.kind === 'word' && after.text === 'IN') {
        this.next();
        this.next();
        this.expect('lparen', "'(' after IN");
        const values: SearchValue[] = [];
        for (;;) {
          const v = this.peek();
          if (v.kind !== 'word' && v.kind !== 'string') throw new QueryError(`expected a value in the IN list but found ${describe(v)}`, v.pos);
          this.next();
          values.push(this.value(v));
          if (this.peek().kind === 'comma') {
            this.next();
            continue;
          }
          if (this.peek().kind === 'rparen') break;
          // Splunk allows space-separated IN lists too.
          if (this.peek().kind === 'word' || this.peek().kind === 'string') continue;
          throw new QueryError(`expected ',' or ')' in the IN list but found ${describe(this.peek())}`, this.peek().pos);
        }
        this.next();
        return { type: 'in', field: t.text, fieldPos: t.pos, values, pos: t.pos };
      }
      if (t.kind === 'field') throw new QueryError(`expected a comparison after the field '${t.text}'`, after.pos);
      this.next();
      if (t.text === '*') return { type: 'all', pos: t.pos };
      return { type: 'text', value: this.value(t), pos: t.pos };
    }
    if (t.kind === 'string') {
      this.next();
      return { type: 'text', value: this.value(t), pos: t.pos };
    }
    throw new QueryError(`expected a search term but found ${describe(t)}`, t.pos);
  }

  private value(t: Token): SearchValue {
    return { text: t.text, raw: t.kind === 'string' ? (t.raw ?? t.text) : t.text, quoted: t.kind === 'string', pos: t.pos };
  }

  // ---- commands -------------------------------------------------------------------------------

  private parseCommand(start: number): Command {
    this.load(start, 'search');
    const name = this.peek();
    if (name.kind !== 'word' || !(COMMANDS as readonly string[]).includes(name.text.toLowerCase())) {
      throw new QueryError(`expected a command (${COMMANDS.join(', ')}) after '|' but found ${describe(name)}`, name.pos);
    }
    const cmd = name.text.toLowerCase();
    const pos = name.pos;
    this.next();
    switch (cmd) {
      case 'search': {
        const search = this.parseSearchRoot();
        return { type: 'search', search, pos };
      }
      case 'where': {
        this.load(name.pos + name.text.length, 'expr');
        if (this.atEnd()) throw new QueryError(`expected an expression after 'where'`, this.peek().pos);
        const expr = this.parseExpr();
        this.expectEnd("an operator or '|'");
        return { type: 'where', expr, pos };
      }
      case 'eval':
        return this.parseEval(name);
      case 'stats':
        return this.parseStats(pos);
      case 'timechart':
        return this.parseTimechart(pos);
      case 'top':
      case 'rare':
        return this.parseTop(cmd, pos);
      case 'sort':
        return this.parseSort(pos);
      case 'head':
      case 'tail': {
        let count = 10;
        if (!this.atEnd()) count = this.parseCount(`a row count after '${cmd}'`);
        this.expectEnd("'|' or the end of the query");
        return { type: cmd, count, pos };
      }
      case 'fields': {
        const fields = this.parseFieldList(`a field name after 'fields'`);
        this.expectEnd("',' or '|'");
        return { type: 'fields', fields, pos };
      }
    }
    throw new QueryError(`expected a command`, pos);
  }

  private parseCount(what: string): number {
    const t = this.peek();
    if (t.kind !== 'word' || !/^\d+$/.test(t.text)) throw new QueryError(`expected ${what} but found ${describe(t)}`, t.pos);
    const n = Number(t.text);
    if (n < 1 || n > MAX_N) throw new QueryError(`expected a number between 1 and ${MAX_N}`, t.pos);
    this.next();
    return n;
  }

  private parseFieldName(what: string): FieldRef {
    const t = this.peek();
    if ((t.kind !== 'word' && t.kind !== 'field') || (t.kind === 'word' && t.text.toLowerCase() === 'by')) {
      throw new QueryError(`expected ${what} but found ${describe(t)}`, t.pos);
    }
    this.next();
    return { name: t.text, pos: t.pos };
  }

  private parseFieldList(what: string): FieldRef[] {
    const out: FieldRef[] = [this.parseFieldName(what)];
    while (!this.atEnd()) {
      if (this.peek().kind === 'comma') this.next();
      out.push(this.parseFieldName('a field name'));
    }
    return out;
  }

  private parseBy(): FieldRef[] {
    if (this.atEnd()) return [];
    const t = this.peek();
    if (!this.isWord(t, 'by')) throw new QueryError(`expected 'by' or '|' but found ${describe(t)}`, t.pos);
    this.next();
    const fields = this.parseFieldList(`a field name after 'by'`);
    return fields;
  }

  private parseAggs(cmd: string): AggCall[] {
    const aggs: AggCall[] = [];
    while (!this.atEnd() && !this.isWord(this.peek(), 'by')) {
      if (aggs.length > 0 && this.peek().kind === 'comma') this.next();
      const t = this.peek();
      const fn = t.kind === 'word' ? t.text.toLowerCase() : '';
      if (!AGG_SET.has(fn) && !PERCENTILE_FUNCTION.test(fn)) {
        throw new QueryError(`expected an aggregate function (${AGG_FUNCTIONS.join(', ')}) but found ${describe(t)}`, t.pos);
      }
      this.next();
      let field: string | null = null;
      let fieldPos = t.pos;
      let label = fn;
      if (this.peek().kind === 'lparen') {
        this.next();
        if (this.peek().kind !== 'rparen') {
          const f = this.parseFieldName(`a field name or ')' after '${fn}('`);
          field = f.name;
          fieldPos = f.pos;
          label = `${fn}(${f.name})`;
        }
        this.expect('rparen', `')' to close '${fn}('`);
      }
      let alias: string | null = null;
      if (this.isWord(this.peek(), 'as')) {
        this.next();
        alias = this.parseFieldName(`a name after 'as'`).name;
      }
      aggs.push({ fn, field, fieldPos, alias, pos: t.pos, label });
    }
    if (aggs.length === 0) {
      const t = this.peek();
      throw new QueryError(`expected an aggregate function such as count() after '${cmd}' but found ${describe(t)}`, t.pos);
    }
    return aggs;
  }

  private parseStats(pos: number): Command {
    const aggs = this.parseAggs('stats');
    const by = this.parseBy();
    this.expectEnd("',' or '|'");
    return { type: 'stats', aggs, by, pos };
  }

  private parseTimechart(pos: number): Command {
    let spanSeconds: number | null = null;
    if (this.isWord(this.peek(), 'span') && this.peek(1).kind === 'op' && this.peek(1).text === '=') {
      this.next();
      this.next();
      const v = this.peek();
      const s = v.kind === 'word' ? parseSpan(v.text) : null;
      if (s === null) throw new QueryError(`expected a time span such as 10s, 1m, 5m, 1h or 1d after 'span=' but found ${describe(v)}`, v.pos);
      if (s > MAX_SPAN_SECONDS) throw new QueryError(`expected a span of at most 365d after 'span=' but found ${describe(v)}`, v.pos);
      spanSeconds = s;
      this.next();
    }
    const aggs = this.parseAggs('timechart');
    const by = this.parseBy();
    if (by.length > 1) throw new QueryError(`expected at most one field after 'by' in timechart`, by[1]!.pos);
    this.expectEnd("'|' or the end of the query");
    return { type: 'timechart', spanSeconds, aggs, by, pos };
  }

  private parseTop(cmd: 'top' | 'rare', pos: number): Command {
    let limit = 10;
    const t = this.peek();
    if (t.kind === 'word' && /^\d+$/.test(t.text)) limit = this.parseCount('a count');
    else if (this.isWord(t, 'limit') && this.peek(1).kind === 'op' && this.peek(1).text === '=') {
      this.next();
      this.next();
      limit = this.parseCount(`a count after 'limit='`);
    }
    const field = this.parseFieldName(`a field name after '${cmd}'`);
    const by = this.parseBy();
    this.expectEnd("'by' or '|'");
    return { type: cmd, limit, field, by, pos };
  }

  private parseSort(pos: number): Command {
    const keys: SortKey[] = [];
    while (!this.atEnd()) {
      if (keys.length > 0 && this.peek().kind === 'comma') this.next();
      const t = this.peek();
      let desc = false;
      let name: string;
      let namePos: number;
      if (t.kind === 'word' && (t.text === '-' || t.text === '+')) {
        this.next();
        desc = t.text === '-';
        const f = this.parseFieldName(`a field name after '${t.text}'`);
        name = f.name;
        namePos = f.pos;
      } else if (t.kind === 'word' && (t.text.startsWith('-') || t.text.startsWith('+'))) {
        this.next();
        desc = t.text.startsWith('-');
        name = t.text.slice(1);
        namePos = t.pos + 1;
      } else {
        const f = this.parseFieldName('a field name to sort by');
        name = f.name;
        namePos = f.pos;
      }
      // `sort -p95(duration_ms)` names an aggregate column by its label.
      if (this.peek().kind === 'lparen') {
        this.next();
        let inner = '';
        if (this.peek().kind !== 'rparen') inner = this.parseFieldName('a field name').name;
        this.expect('rparen', `')' to close '${name}('`);
        name = `${name}(${inner})`;
      }
      if (this.isWord(this.peek(), 'desc') || this.isWord(this.peek(), 'asc')) desc = this.next().text.toLowerCase() === 'desc';
      keys.push({ field: name, desc, pos: namePos });
    }
    if (keys.length === 0) throw new QueryError(`expected a field name after 'sort'`, this.peek().pos);
    return { type: 'sort', keys, pos };
  }

  private parseEval(name: Token): Command {
    this.load(name.pos + name.text.length, 'expr');
    const assignments: { name: string; namePos: number; expr: Expr }[] = [];
    do {
      if (assignments.length > 0) this.next(); // the comma
      const target = this.peek();
      if (target.kind !== 'word' && target.kind !== 'field') {
        throw new QueryError(`expected a field name to assign after 'eval' but found ${describe(target)}`, target.pos);
      }
      this.next();
      const eq = this.peek();
      if (eq.kind !== 'op' || eq.text !== '=') throw new QueryError(`expected '=' after '${target.text}' but found ${describe(eq)}`, eq.pos);
      this.next();
      if (this.atEnd() || this.peek().kind === 'comma') {
        throw new QueryError(`expected an expression after '=' but found ${describe(this.peek())}`, this.peek().pos);
      }
      assignments.push({ name: target.text, namePos: target.pos, expr: this.parseExpr() });
    } while (this.peek().kind === 'comma');
    this.expectEnd("',' or '|'");
    return { type: 'eval', assignments, pos: name.pos };
  }

  // ---- expressions ----------------------------------------------------------------------------

  private parseExpr(): Expr {
    let left = this.parseAndExpr();
    while (this.isWord(this.peek(), 'or')) {
      const op = this.next();
      left = { type: 'binary', op: 'or', left, right: this.parseAndExpr(), pos: op.pos };
    }
    return left;
  }

  private parseAndExpr(): Expr {
    let left = this.parseNotExpr();
    while (this.isWord(this.peek(), 'and')) {
      const op = this.next();
      left = { type: 'binary', op: 'and', left, right: this.parseNotExpr(), pos: op.pos };
    }
    return left;
  }

  private parseNotExpr(): Expr {
    const t = this.peek();
    if (this.isWord(t, 'not')) {
      this.next();
      return { type: 'unary', op: 'not', arg: this.nested(t.pos, () => this.parseNotExpr()), pos: t.pos };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const left = this.parseAdd();
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPS.has(t.text)) {
      this.next();
      this.requireOperand(t);
      return { type: 'binary', op: t.text as CompareOp, left, right: this.parseAdd(), pos: t.pos };
    }
    let negated = false;
    if (this.isWord(t, 'not') && this.isWord(this.peek(1), 'in')) {
      negated = true;
      this.next();
    }
    if (this.isWord(this.peek(), 'in')) {
      const inTok = this.next();
      this.expect('lparen', "'(' after IN");
      const values: Expr[] = [this.parseAdd()];
      while (this.peek().kind === 'comma') {
        this.next();
        values.push(this.parseAdd());
      }
      this.expect('rparen', "',' or ')' in the IN list");
      return { type: 'in', arg: left, values, negated, pos: inTok.pos };
    }
    return left;
  }

  private requireOperand(op: Token): void {
    const t = this.peek();
    if (t.kind === 'eof' || t.kind === 'pipe' || t.kind === 'rparen' || t.kind === 'comma' || (t.kind === 'op' && t.text !== '-')) {
      throw new QueryError(`expected a value after '${op.text}' but found ${describe(t)}`, t.pos);
    }
  }

  private parseAdd(): Expr {
    let left = this.parseMul();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '+' && t.text !== '-')) return left;
      this.next();
      this.requireOperand(t);
      left = { type: 'binary', op: t.text, left, right: this.parseMul(), pos: t.pos };
    }
  }

  private parseMul(): Expr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '*' && t.text !== '/' && t.text !== '%')) return left;
      this.next();
      this.requireOperand(t);
      left = { type: 'binary', op: t.text, left, right: this.parseUnary(), pos: t.pos };
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      this.requireOperand(t);
      return { type: 'unary', op: '-', arg: this.nested(t.pos, () => this.parseUnary()), pos: t.pos };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { type: 'number', value: Number(t.text), text: t.text, pos: t.pos };
      case 'string':
        this.next();
        return { type: 'string', value: t.text, pos: t.pos };
      case 'field':
        this.next();
        return { type: 'field', name: t.text, pos: t.pos };
      case 'lparen': {
        this.next();
        const inner = this.nested(t.pos, () => this.parseExpr());
        this.expect('rparen', `')' to close the '(' at position ${t.pos}`);
        return inner;
      }
      case 'word': {
        this.next();
        if (this.peek().kind === 'lparen') {
          this.next();
          const args: Expr[] = [];
          if (this.peek().kind !== 'rparen') {
            args.push(this.nested(t.pos, () => this.parseExpr()));
            while (this.peek().kind === 'comma') {
              this.next();
              args.push(this.nested(t.pos, () => this.parseExpr()));
            }
          }
          this.expect('rparen', `',' or ')' in the arguments of ${t.text}()`);
          return { type: 'call', name: t.text.toLowerCase(), args, pos: t.pos };
        }
        const lower = t.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { type: 'bool', value: lower === 'true', pos: t.pos };
        if (lower === 'null') return { type: 'null', pos: t.pos };
        return { type: 'field', name: t.text, pos: t.pos };
      }
      default:
        throw new QueryError(`expected a field, value or '(' but found ${describe(t)}`, t.pos);
    }
  }
}
