/**
 * The notification log (Alertmanager's nflog) and the dedup decision on it. `needsUpdate` is pure and
 * follows Alertmanager's `DedupStage.needsUpdate` line by line; `NotificationLog` keeps the entries in
 * memory (dedup runs on every flush) and writes each change through to the state store, so a restart
 * neither sends again before the repeat interval nor forgets a resolved notification still owed.
 */
import type { NotificationLogEntry, NotificationLogRepo } from '../../store/state/notification-log.ts';

export type { NotificationLogEntry };

/** The key of one integration of one receiver in the log, as Alertmanager writes it. */
export function receiverKey(receiver: string, integration: string, index: number): string {
  return `${receiver}/${integration}/${index}`;
}

/**
 * Whether a group's current alerts must be notified, given what was last sent (Alertmanager's rules):
 *
 * | last entry | current                                   | send?                          |
 * |------------|-------------------------------------------|--------------------------------|
 * | none       | some firing                               | yes                            |
 * | none       | only resolved                             | no (the receiver never knew)   |
 * | any        | a firing alert not in the last firing set | yes                            |
 * | any        | nothing firing                            | yes iff the last one had firing |
 * | any        | send_resolved and a resolved one is new   | yes                            |
 * | any        | otherwise                                 | yes iff repeat_interval passed |
 */
export function needsUpdate(
  entry: Pick<NotificationLogEntry, 'firing' | 'resolved' | 'sentAt'> | undefined,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  opts: { sendResolved: boolean; repeatIntervalMs: number; now: number },
): boolean {
  if (!entry) return firing.size > 0;
  if (!isSubset(firing, entry.firing)) return true;
  // All resolved: notify irrespective of send_resolved, so that the log is cleared of the firing ones
  // (the integration itself then skips sending when it does not send resolved notifications).
  if (firing.size === 0) return entry.firing.length > 0;
  if (opts.sendResolved && !isSubset(resolved, entry.resolved)) return true;
  return entry.sentAt < opts.now - opts.repeatIntervalMs;
}

function isSubset(subset: ReadonlySet<string>, of: readonly string[]): boolean {
  if (subset.size === 0) return true;
  const set = new Set(of);
  for (const fp of subset) if (!set.has(fp)) return false;
  return true;
}

/** How long an entry outlives its repeat interval (Alertmanager's default data retention, 120h). */
export const DEFAULT_NFLOG_RETENTION_MS = 120 * 3_600_000;

/** The notification log: entries in memory, written through to the state store. */
export class NotificationLog {
  private readonly entries = new Map<string, NotificationLogEntry>();

  constructor(
    private readonly repo: NotificationLogRepo,
    private readonly retentionMs = DEFAULT_NFLOG_RETENTION_MS,
  ) {}

  private static key(receiver: string, groupKey: string): string {
    return `${receiver}\u0000${groupKey}`;
  }

  /** Loads the entries that have not expired; call once before the first flush. */
  async load(now: number): Promise<void> {
    this.entries.clear();
    for (const e of await this.repo.list(now)) this.entries.set(NotificationLog.key(e.receiver, e.groupKey), e);
  }

  /** The last entry of a receiver integration for a group, unless expired at `now`. */
  query(receiver: string, groupKey: string, now: number): NotificationLogEntry | undefined {
    const e = this.entries.get(NotificationLog.key(receiver, groupKey));
    return e && e.expiresAt > now ? e : undefined;
  }

  /** Records what was just sent (persisted before it resolves). */
  async log(receiver: string, groupKey: string, firing: readonly string[], resolved: readonly string[], opts: { now: number; repeatIntervalMs: number }): Promise<void> {
    const entry: NotificationLogEntry = {
      receiver,
      groupKey,
      firing: [...firing].sort(),
      resolved: [...resolved].sort(),
      sentAt: opts.now,
      expiresAt: opts.now + opts.repeatIntervalMs + this.retentionMs,
    };
    this.entries.set(NotificationLog.key(receiver, groupKey), entry);
    await this.repo.upsert(entry);
  }

  /** Forgets expired entries, in memory and in the store. */
  async gc(now: number): Promise<number> {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    return this.repo.gc(now);
  }
}
