import { describe, expect, it } from 'vitest';
import { QueryError } from './errors.ts';
import { parseQuery } from './parser.ts';
import { buildPlan } from './planner.ts';

/** Returns the QueryError a query raises (parse or plan). */
function errorOf(q: string): QueryError {
  try {
    buildPlan(q);
  } catch (e) {
    if (e instanceof QueryError) return e;
    throw e;
  }
  throw new Error(`expected ${q} to fail`);
}

describe('parser', () => {
  it('reads dataset, search terms and pipes', () => {
    const q = parseQuery('from spans service.name=rms "payment failed" | stats count() p95(duration_ms) as p95 by http.route | sort -count | head 5');
    expect(q.dataset).toBe('spans');
    expect(q.search.type).toBe('and');
    expect(q.commands.map((c) => c.type)).toEqual(['stats', 'sort', 'head']);
    const stats = q.commands[0]!;
    if (stats.type !== 'stats') throw new Error('not stats');
    expect(stats.aggs.map((a) => [a.fn, a.field, a.alias, a.label])).toEqual([
      ['count', null, null, 'count'],
      ['p95', 'duration_ms', 'p95', 'p95(duration_ms)'],
    ]);
    expect(stats.by.map((b) => b.name)).toEqual(['http.route']);
  });

  it('accepts index= as the dataset and defaults to logs', () => {
    expect(parseQuery('index=spans error').dataset).toBe('spans');
    expect(parseQuery('error').dataset).toBe('logs');
    expect(parseQuery('').search.type).toBe('all');
    expect(parseQuery('| stats count').commands[0]!.type).toBe('stats');
  });

  it('gives OR precedence over implicit AND, as Splunk does', () => {
    const q = parseQuery('error OR warn service.name=rms');
    expect(q.search).toMatchObject({ type: 'and', items: [{ type: 'or' }, { type: 'compare', field: 'service.name' }] });
  });

  it('binds NOT tightest and honours parentheses', () => {
    const q = parseQuery('NOT (a OR b) c');
    expect(q.search).toMatchObject({ type: 'and', items: [{ type: 'not', item: { type: 'or' } }, { type: 'text' }] });
  });

  it('reads IN lists with commas or spaces', () => {
    expect(parseQuery('status IN (Ok, Error)').search).toMatchObject({ type: 'in', values: [{ text: 'Ok' }, { text: 'Error' }] });
    expect(parseQuery('status IN (Ok Error)').search).toMatchObject({ type: 'in', values: [{ text: 'Ok' }, { text: 'Error' }] });
  });

  it('parses expressions with SQL precedence in where and eval', () => {
    const q = parseQuery('| where a > 1 and b = 2 or not c | eval x = 1 + 2 * 3, y = if(x > 3, "big", "small")');
    const where = q.commands[0]!;
    expect(where).toMatchObject({ type: 'where', expr: { type: 'binary', op: 'or', left: { op: 'and' }, right: { type: 'unary', op: 'not' } } });
    expect(q.commands[1]).toMatchObject({
      type: 'eval',
      assignments: [
        { name: 'x', expr: { op: '+', right: { op: '*' } } },
        { name: 'y', expr: { type: 'call', name: 'if' } },
      ],
    });
  });

  it('reads sort keys in every spelling', () => {
    const q = parseQuery('| sort -count, + name, - x, y desc');
    expect(q.commands[0]).toMatchObject({ type: 'sort', keys: [{ field: 'count', desc: true }, { field: 'name', desc: false }, { field: 'x', desc: true }, { field: 'y', desc: true }] });
  });

  it('reads timechart spans and top options', () => {
    expect(parseQuery('| timechart span=5m count by service.name').commands[0]).toMatchObject({ spanSeconds: 300 });
    expect(parseQuery('| timechart span=1d avg(duration_ms)').commands[0]).toMatchObject({ spanSeconds: 86400, by: [] });
    expect(parseQuery('| top limit=3 http.route by service.name').commands[0]).toMatchObject({ type: 'top', limit: 3, field: { name: 'http.route' } });
    expect(parseQuery('| rare user.id').commands[0]).toMatchObject({ type: 'rare', limit: 10 });
  });

  it('keeps pipes inside quoted strings', () => {
    const q = parseQuery('"a | b" | where body = "x|y"');
    expect(q.search).toMatchObject({ type: 'text', value: { text: 'a | b' } });
    expect(q.commands).toHaveLength(1);
  });
});

describe('errors name the position and what was expected', () => {
  const cases: [string, number, string][] = [
    ['service.name=rms severity>=', 27, "expected a value after '>=' but found the end of the query"],
    ['service.name= | stats count', 14, "expected a value after '=' but found '|'"],
    ['a | frobnicate', 4, 'expected a command (search, where, eval'],
    ['a | stats', 9, 'expected an aggregate function such as count()'],
    ['a | stats bogus(x)', 10, 'expected an aggregate function (count, dc'],
    ['a | stats count by', 18, "expected a field name after 'by'"],
    ['(a OR b', 7, "expected ')' to close the '(' at position 0"],
    ['a)', 1, "unexpected ')'"],
    ['"unterminated', 0, 'expected a closing double quote'],
    ['a | head x', 9, "expected a row count after 'head'"],
    ['a | timechart span=7q count', 19, 'expected a time span such as 10s'],
    ['a | where x >', 13, "expected a value after '>'"],
    ['a | where (x > 1', 16, "expected ')' to close the '(' at position 10"],
    ['a | eval = 1', 9, "expected a field name to assign after 'eval'"],
    ['a | eval x 1', 11, "expected '=' after 'x'"],
    ['from nowhere', 5, 'expected a dataset (logs or spans)'],
    ['severity>=LOUD', 10, 'expected a severity (TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24)'],
    ['from spans kind=sideways', 16, 'expected one of Unspecified, Internal, Server, Client, Producer, Consumer'],
    ['from spans duration_ms>slow', 23, "expected a number for the numeric field 'duration_ms'"],
    ['http.route>/api*', 11, "expected a value without '*'"],
    ["'bad\"key'=1", 0, 'expected a field name made of letters'],
    ['| stats count by service.name | where foo > 1', 38, 'expected one of the fields service.name, count'],
    ['| stats count, count', 2, "expected distinct output names but 'count' appears twice"],
    ['| eval __x = 1', 7, 'not starting with __'],
    ['| where frob(1)', 8, 'expected a function (if, case, round'],
    ['| where round(x, 1.5) > 1', 17, 'expected a whole number of digits'],
    ['a ! b', 3, "expected '=' after '!'"],
    ['| stats count | timechart count', 16, 'expected timechart before any stats'],
  ];
  it.each(cases)('%s', (q, position, message) => {
    const e = errorOf(q);
    expect(e.message).toContain(message);
    expect(e.position).toBe(position);
    expect(e.message).toMatch(/at position \d+$/);
  });
});

describe('bounds and Splunk habits', () => {
  it('refuses nesting deeper than 64 levels with the position of the level that passed it', () => {
    expect(errorOf(`| where ${'('.repeat(100)}1${')'.repeat(100)} = 1`).detail).toMatch(/at most 64 levels/);
    expect(errorOf(`${'NOT '.repeat(100)}x`).detail).toMatch(/at most 64 levels/);
    expect(errorOf(`| eval x = ${'-'.repeat(100)}1`).detail).toMatch(/at most 64 levels/);
    expect(() => buildPlan(`| where ${'('.repeat(30)}1${')'.repeat(30)} = 1`)).not.toThrow();
  });

  it('refuses query texts over 64 KiB and spans over a year', () => {
    expect(errorOf('x'.repeat(70_000)).detail).toMatch(/at most 65536 characters/);
    expect(errorOf('| timechart span=400d count').detail).toMatch(/at most 365d/);
    expect(errorOf('| timechart span=99999999999999999999999d count').detail).toMatch(/at most 365d/);
  });

  it('refuses an eval whose written-out expression grows past the bound, at its name', () => {
    const q = ['| eval a0 = "x"', ...Array.from({ length: 12 }, (_, i) => `eval a${i + 1} = concat(a${i}, a${i})`)].join(' | ');
    const e = errorOf(q);
    expect(e.detail).toMatch(/'a9' grows to more than 1000 terms/);
    expect(q.slice(e.position, e.position + 2)).toBe('a9');
  });

  it('reads index=<not a dataset> as a search on the HEC index, main holding records without one', () => {
    expect(parseQuery('index=main error').dataset).toBe('logs');
    expect(parseQuery('index=main error').search).toMatchObject({ type: 'and', items: [{ type: 'compare', field: 'index' }, { type: 'text' }] });
    expect(buildPlan('index=main').root).toMatchObject({
      op: 'filter',
      predicate: { kind: 'compare', left: { kind: 'call', fn: 'coalesce', args: [{ kind: 'attribute', key: 'splunk.index' }, { kind: 'const', value: 'main' }] }, right: { kind: 'param', value: 'main' } },
    });
  });

  it('notes attribute names with the fields they are probably meant to be', () => {
    expect(buildPlan('from spans | stats avg(duration) by service.name').attributes).toEqual([{ name: 'duration', position: 23, similar: ['duration_ms', 'duration_ns'], otherDataset: null }]);
    expect(buildPlan('status=500').attributes).toEqual([{ name: 'status', position: 0, similar: [], otherDataset: 'spans' }]);
    expect(buildPlan('from spans | stats count by sevrity').attributes[0]).toMatchObject({ similar: [], otherDataset: null });
    expect(buildPlan('| stats count by sevrity').attributes[0]).toMatchObject({ similar: ['severity'] });
    expect(buildPlan('from spans route=/x').attributes[0]).toMatchObject({ similar: ['http.route'] });
  });
});
