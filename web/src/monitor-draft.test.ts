/**
 * The monitor form's model (web/src/monitor-draft.ts) against the API's write-only secrets contract:
 * a saved secret goes back as the mask, a typed one replaces it, a removed one is left out (a password
 * as null), and fields the form does not show survive an edit.
 */
import { describe, expect, it } from 'vitest';
import { draftOf, emptyDraft, MASK, specOf } from './monitor-draft.ts';
import type { MonitorSpecInput } from './api.ts';

const http: MonitorSpecInput = {
  id: 'api',
  name: 'API',
  type: 'http',
  url: 'https://rms.example/health',
  method: 'POST',
  headers: { Authorization: MASK, Accept: 'application/json' },
  body: { user: 'probe', password: MASK },
  expect: { status: [200], json: [{ path: 'ok', equals: true }] },
  maxRedirects: 3,
  source: 'api',
  file: null,
};

describe('monitor draft', () => {
  it('never holds a saved secret, and sends the mask back for one left alone', () => {
    const d = draftOf(http);
    expect(d.headers).toEqual([
      { name: 'Authorization', secret: true, value: { saved: true, removed: false, value: '' } },
      { name: 'Accept', secret: false, value: { saved: false, removed: false, value: 'application/json' } },
    ]);
    const spec = specOf({ ...d, name: 'API v2' }, http);
    expect(spec).toMatchObject({ name: 'API v2', headers: { Authorization: MASK, Accept: 'application/json' }, body: { user: 'probe', password: MASK } });
    // What the form does not show is kept; what the API added for display is not sent.
    expect(spec).toMatchObject({ maxRedirects: 3, expect: { json: [{ path: 'ok', equals: true }], status: [200] } });
    expect(spec).not.toHaveProperty('source');
  });

  it('replaces a secret that is typed, and leaves out one that is removed', () => {
    const d = draftOf(http);
    const typed = specOf({ ...d, headers: [{ ...d.headers[0]!, value: { ...d.headers[0]!.value, value: 'Bearer new' } }, d.headers[1]!] }, http);
    expect(typed.headers).toEqual({ Authorization: 'Bearer new', Accept: 'application/json' });
    const removed = specOf({ ...d, headers: [{ ...d.headers[0]!, value: { ...d.headers[0]!.value, removed: true } }] }, http);
    expect(removed.headers).toEqual({});
  });

  it('sends a removed password as null, since a missing one means "keep"', () => {
    const pg: MonitorSpecInput = { id: 'db', name: 'DB', type: 'postgres', host: 'db', port: 5432, password: MASK };
    const d = draftOf(pg);
    expect(d.password).toEqual({ saved: true, removed: false, value: '' });
    expect(specOf(d, pg).password).toBe(MASK);
    expect(specOf({ ...d, password: { ...d.password, removed: true } }, pg).password).toBeNull();
    expect(specOf({ ...d, password: { ...d.password, value: 'n3w-password' } }, pg).password).toBe('n3w-password');
    expect(specOf({ ...emptyDraft('postgres'), id: 'x', name: 'x' }).password).toBeUndefined();
  });

  it('names the field of workflow steps that are not JSON, and of a port that is not a number', () => {
    expect(() => specOf({ ...emptyDraft('workflow'), id: 'w', name: 'w', steps: '[{' })).toThrowError(expect.objectContaining({ field: 'steps' }));
    expect(() => specOf({ ...emptyDraft('tcp'), id: 't', name: 't', host: 'h', port: 'eighty' })).toThrowError(expect.objectContaining({ field: 'port' }));
  });
});
