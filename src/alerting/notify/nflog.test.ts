import { describe, expect, it } from 'vitest';
import { needsUpdate } from './nflog.ts';

const H = 3_600_000;
const set = (...fps: string[]) => new Set(fps);

describe('needsUpdate (Alertmanager DedupStage)', () => {
  const now = 10 * H;
  const opts = { sendResolved: true, repeatIntervalMs: 4 * H, now };
  const entry = (firing: string[], resolved: string[], sentAt = now - H) => ({ firing, resolved, sentAt });

  it.each([
    ['nothing sent yet, something fires', undefined, set('a'), set(), opts, true],
    ['nothing sent yet, only resolved alerts (the receiver never knew)', undefined, set(), set('a'), opts, false],
    ['same firing set within the repeat interval', entry(['a', 'b'], []), set('a', 'b'), set(), opts, false],
    ['fewer firing than last time (a subset)', entry(['a', 'b'], []), set('a'), set(), { ...opts, sendResolved: false }, false],
    ['a new firing alert', entry(['a'], []), set('a', 'b'), set(), opts, true],
    ['a new resolved alert with send_resolved', entry(['a', 'b'], []), set('a'), set('b'), opts, true],
    ['a new resolved alert without send_resolved', entry(['a', 'b'], []), set('a'), set('b'), { ...opts, sendResolved: false }, false],
    ['the same resolved alert again', entry(['a'], ['b']), set('a'), set('b'), opts, false],
    ['all resolved after firing was sent', entry(['a'], []), set(), set('a'), opts, true],
    ['all resolved after firing was sent, without send_resolved (clears the log)', entry(['a'], []), set(), set('a'), { ...opts, sendResolved: false }, true],
    ['all resolved and the resolved were sent', entry([], ['a']), set(), set('a'), opts, false],
    ['repeat interval passed while firing', entry(['a'], [], now - 4 * H - 1), set('a'), set(), opts, true],
    ['repeat interval exactly reached', entry(['a'], [], now - 4 * H), set('a'), set(), opts, false],
  ])('%s', (_name, e, firing, resolved, o, want) => {
    expect(needsUpdate(e, firing, resolved, o)).toBe(want);
  });
});
