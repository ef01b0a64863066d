/**
 * Alert conditions: the query language's `where` expressions evaluated over a row's fields, with SQL
 * null semantics, the language's function names, errors pointing into the condition text, and the
 * threshold a chart draws.
 */
import { describe, expect, it } from 'vitest';
import { QueryError } from '../query/errors.ts';
import { compileCondition, type FieldValue } from './condition.ts';

type Row = Record<string, FieldValue>;

const row: Row = { value: 0.08, n: 40, baseline: 0.01, baseline_mad: 0.002, zscore: 7, 'http.route': '/api/register', status: 'error', code: 403, flag: true, none: null };
const noBaseline: Row = { value: 0.5, n: 40, baseline: null, zscore: null };

describe('compileCondition: evaluation', () => {
  const cases: [string, Row, boolean][] = [
    ['value > 0.05', row, true],
    ['value > 0.1', row, false],
    ['value >= 0.08 and value <= 0.08', row, true],
    ['value = 0.08', row, true],
    ['value == 0.08', row, true],
    ['value != 0.08', row, false],
    ['value <> 0.08', row, false],
    ['n >= 20 and value > 0.05', row, true],
    ['n >= 50 and value > 0.05', row, false],
    ['n >= 50 or value > 0.05', row, true],
    ['not value > 0.05', row, false],
    ['NOT (n < 20) AND value > 0.05', row, true],
    // Field names with dots, strings, in.
    ['http.route = "/api/register"', row, true],
    ["'http.route' = \"/api/register\"", row, true],
    ['http.route in ("/a", "/api/register")', row, true],
    ['http.route not in ("/a", "/api/register")', row, false],
    ['code in (500, 503)', row, false],
    ['code not in (500, 503)', row, true],
    ['status = "error"', row, true],
    // Arithmetic and precedence.
    ['value > baseline + 0.05', row, true],
    ['value > 3 * baseline and value - baseline > 0.05', row, true],
    ['value > 10 * baseline', row, false],
    ['-value < 0', row, true],
    ['n % 7 = 5', row, true],
    ['n / 0 > 1', row, false],
    ['n / 0 <= 1', row, false],
    ['2 + 3 * 4 = 14', row, true],
    ['(2 + 3) * 4 = 20', row, true],
    // Baseline absent: comparisons with null are unknown, so neither a condition nor its negation holds.
    ['value > 3 * baseline', noBaseline, false],
    ['not (value > 3 * baseline)', noBaseline, false],
    ['value < 2 * baseline', noBaseline, false],
    ['zscore > 4 or value > 0.4', noBaseline, true],
    ['zscore > 4 and value > 0.4', noBaseline, false],
    ['baseline = null', noBaseline, false],
    ['isnull(baseline)', noBaseline, true],
    ['isnotnull(baseline)', noBaseline, false],
    ['isnotnull(baseline)', row, true],
    ['missing > 1', row, false],
    ['isnull(missing)', row, true],
    ['coalesce(baseline, 0) = 0', noBaseline, true],
    ['coalesce(none, missing, 7) = 7', row, true],
    // Functions.
    ['abs(-value) = 0.08', row, true],
    ['round(value, 1) = 0.1', row, true],
    ['round(2.5) = 3 and round(-2.5) = -3', row, true],
    ['min(value, 1, n) = 0.08', row, true],
    ['max(value, 1, n) = 40', row, true],
    ['least(value, none) = 0.08', row, true],
    ['greatest(n, 50) = 50', row, true],
    ['if(status = "error", 1, 0) = 1', row, true],
    ['if(none > 1, 1, 0) = 0', row, true],
    ['case(n < 10, "low", n < 100, "mid", "high") = "mid"', row, true],
    ['floor(value * 100) = 8 and ceil(value * 100) = 8', row, true],
    ['sqrt(n - 4) = 6', row, true],
    ['pow(2, 10) = 1024', row, true],
    ['ln(0) > 0 or ln(0) <= 0', row, false],
    ['log10(100) = 2 and exp(0) = 1', row, true],
    ['lower(status) = "error" and upper(status) = "ERROR"', row, true],
    ['len(http.route) = 13 and length(trim("  ab ")) = 2', row, true],
    ['substr(http.route, 2, 3) = "api"', row, true],
    ['concat(status, "-", code) = "error-403"', row, true],
    ['status + "!" = "error!"', row, true],
    ['tonumber("12") = 12 and tostring(code) = "403"', row, true],
    ['like(http.route, "/api/%")', row, true],
    ['like(http.route, "/API/%")', row, false],
    ['contains(http.route, "REGISTER")', row, true],
    ['code >= 400 and code < 500', row, true],
    // Booleans and numbers-as-text.
    ['flag', row, true],
    ['flag = true', row, true],
    ['not flag', row, false],
    ['true', row, true],
    ['false or null', row, false],
    ['value > "0.05"', row, true],
    ['status > 1', row, false],
  ];
  it.each(cases)('%s', (text, fields, want) => {
    expect(compileCondition(text).evaluate(fields)).toBe(want);
  });

  it('keeps its text', () => {
    expect(compileCondition('value > 1').text).toBe('value > 1');
  });
});

describe('compileCondition: threshold', () => {
  const cases: [string, number | null][] = [
    ['value > 0.05', 0.05],
    ['n >= 20 and value > 0.05', 0.05],
    ['0.9 < value', 0.9],
    ['value < -3', -3],
    ['n >= 20 and value > 0.2 and value > baseline + 0.15 and zscore > 4', 0.2],
    ['value > 3 * baseline', null],
    ['value > 1 or n > 3', null],
    ['n > 3', null],
    ['value = 0 and baseline >= 10', 0],
  ];
  it.each(cases)('%s → %s', (text, want) => {
    expect(compileCondition(text).threshold).toBe(want);
  });
});

describe('compileCondition: errors point into the condition', () => {
  const cases: [string, number, RegExp][] = [
    ['value >', 7, /expected a value after '>'/],
    ['value > 1 and', 13, /expected a field, value or '\(' but found the end of the condition/],
    ['value > 1 | where n > 2', 10, /'\|'/],
    ['foo(value) > 1', 0, /expected a function \(.*\) but found 'foo'/],
    ['n > 1 and avg(value) > 1', 10, /but found 'avg'/],
    ['if(value > 1, 1) = 1', 0, /expected 3 arguments for if\(\) but found 2/],
    ['round(value, 1.5) > 1', 13, /whole number of digits/],
    ['value > "open', 8, /closing double quote/],
    ['value # 2', 6, /unexpected character '#'/],
    ['(value > 1', 10, /'\)' to close/],
    ['', 0, /expected a condition/],
    ['   ', 0, /expected a condition/],
  ];
  it.each(cases)('%s', (text, position, message) => {
    let caught: unknown;
    try {
      compileCondition(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QueryError);
    const e = caught as QueryError;
    expect(e.message).toMatch(message);
    expect(e.position).toBe(position);
  });
});

describe('compileCondition: fields', () => {
  it('lists the fields read, first use first, with positions in the text', () => {
    expect(compileCondition('n >= 20 and value > 3 * baseline and http.route != "/x" and value > 1').fields).toEqual([
      { name: 'n', position: 0 },
      { name: 'value', position: 12 },
      { name: 'baseline', position: 24 },
      { name: 'http.route', position: 37 },
    ]);
    expect(compileCondition('coalesce(zscore, 0) > 4 and code in (x, 2)').fields.map((f) => f.name)).toEqual(['zscore', 'code', 'x']);
  });
});
