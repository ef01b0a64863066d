import { describe, expect, it } from 'vitest';
import type { SpanRow } from '../model/telemetry.ts';
import { promoteSpan } from './promote.ts';

const span = (attributes: SpanRow['attributes']): SpanRow => ({ attributes } as SpanRow);

describe('promoteSpan', () => {
  it.each([
    ['new conventions', { 'http.request.method': 'POST', 'http.route': '/pay', 'http.response.status_code': 502, 'db.system.name': 'postgresql', 'db.query.text': "SELECT * FROM t WHERE id = 'x'" },
      { httpMethod: 'POST', httpRoute: '/pay', httpStatusCode: 502, dbSystem: 'postgresql', dbStatement: "SELECT * FROM t WHERE id = 'x'", dbStatementNormalized: 'SELECT * FROM t WHERE id = ?' }],
    ['old conventions', { 'http.method': 'GET', 'http.status_code': '404', 'db.system': 'mysql', 'db.statement': 'DELETE FROM t WHERE a IN (1, 2)' },
      { httpMethod: 'GET', httpRoute: null, httpStatusCode: 404, dbSystem: 'mysql', dbStatement: 'DELETE FROM t WHERE a IN (1, 2)', dbStatementNormalized: 'DELETE FROM t WHERE a IN (?)' }],
    ['values a column cannot hold', { 'http.response.status_code': 2 ** 40, 'http.route': ['a'], 'http.request.method': 7 },
      { httpMethod: '7', httpRoute: '["a"]', httpStatusCode: null, dbSystem: null, dbStatement: null, dbStatementNormalized: null }],
    ['nothing to promote', {}, { httpMethod: null, httpRoute: null, httpStatusCode: null, dbSystem: null, dbStatement: null, dbStatementNormalized: null }],
  ])('%s', (_name, attributes, expected) => {
    expect(promoteSpan(span(attributes))).toEqual(expected);
  });
});
