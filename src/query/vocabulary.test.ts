/**
 * The UI's query hints (web/src/query-syntax.ts) against what the parser and planner accept: every
 * aggregate the planner plans is offered, and a name outside the vocabulary is refused by the parser.
 */
import { describe, expect, it } from 'vitest';
import { AGGREGATES, COMMANDS, tokenize } from '../../web/src/query-syntax.ts';
import { buildPlan } from './planner.ts';
import { AGGREGATE_FUNCTIONS, COMMANDS as LANGUAGE_COMMANDS, EVAL_FUNCTIONS } from './vocabulary.ts';

const hintNames = AGGREGATES.map((h) => h.replace(/\(\)?$/, ''));

describe('query vocabulary', () => {
  it('every aggregate the planner accepts appears in the UI hints', () => {
    for (const a of AGGREGATE_FUNCTIONS) {
      expect(() => buildPlan(`from spans | stats ${a.name}(duration_ms)`), a.name).not.toThrow();
      if (a.fieldOptional) expect(() => buildPlan(`from spans | stats ${a.name}()`), a.name).not.toThrow();
      expect(hintNames, a.name).toContain(a.name);
    }
    // The ones the hand-copied list used to miss.
    expect(AGGREGATES).toEqual(expect.arrayContaining(['p75(', 'p999(', 'distinct_count(', 'mean(', 'count()', 'rate()']));
  });

  it('names outside the vocabulary are refused, naming what is accepted', () => {
    for (const name of ['stdev', 'values', 'perc95', 'first']) {
      expect(() => buildPlan(`from spans | stats ${name}(duration_ms)`)).toThrow(/expected an aggregate function \(count, dc, distinct_count, .*p999\)/);
      expect(hintNames).not.toContain(name);
    }
  });

  it('the UI offers and colours every pipe command the parser knows', () => {
    expect([...COMMANDS].sort()).toEqual([...LANGUAGE_COMMANDS].sort());
    for (const c of LANGUAGE_COMMANDS) expect(tokenize(`x | ${c}`).at(-1)).toMatchObject({ text: c, kind: 'command' });
  });

  it('the planner accepts every eval function of the vocabulary and names the canonical ones when refusing', () => {
    const text = new Set(['lower', 'upper', 'trim', 'len', 'length', 'substr', 'concat', 'coalesce', 'tostring', 'isnull', 'isnotnull', 'like', 'contains']);
    const extra: Record<string, string> = { if: ', 1, 2', case: ', 1', pow: ', 2', substr: ', 1', like: ', "a%"', contains: ', "a"' };
    for (const f of EVAL_FUNCTIONS) {
      const first = f.name === 'if' || f.name === 'case' ? 'duration_ms>1' : text.has(f.name) ? 'name' : 'duration_ms';
      expect(() => buildPlan(`from spans | eval x=${f.name}(${first}${extra[f.name] ?? ''})`), f.name).not.toThrow();
    }
    expect(() => buildPlan('from spans | where frob(1)')).toThrow(/expected a function \(if, case, round, .*, contains\) but found 'frob'/);
  });
});
