/**
 * The notification log on the state store (Alertmanager's nflog): per receiver integration and
 * aggregation group, which alerts were firing and which resolved when the last notification went out.
 * Persisted so that after a restart nothing is sent again before its repeat interval, and a resolved
 * notification not yet sent still goes out.
 */
import type { StateDb } from './db.ts';

/** What one receiver integration was last sent for one aggregation group. */
export interface NotificationLogEntry {
  /** The receiver integration, Alertmanager's nflog key: `<receiver>/<integration>/<index>`. */
  receiver: string;
  groupKey: string;
  /** Fingerprints of the alerts that were firing in the notification. */
  firing: string[];
  /** Fingerprints of the alerts that were resolved in the notification. */
  resolved: string[];
  sentAt: number;
  /** After this the entry is forgotten (and a group that comes back notifies as new). */
  expiresAt: number;
}

const parseList = (text: string): string[] => {
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/** Reads and writes notification log entries. */
export class NotificationLogRepo {
  constructor(private readonly db: StateDb) {}

  /** Every entry that has not expired at `now` (loaded once at start: dedup reads them from memory). */
  async list(now: number): Promise<NotificationLogEntry[]> {
    const rows = await this.db.selectFrom('notification_log').selectAll().where('expires_at', '>', now).execute();
    return rows.map((r) => ({ receiver: r.receiver, groupKey: r.group_key, firing: parseList(r.firing), resolved: parseList(r.resolved), sentAt: r.sent_at, expiresAt: r.expires_at }));
  }

  /** The entry of one receiver integration and group, expired or not. */
  async get(receiver: string, groupKey: string): Promise<NotificationLogEntry | undefined> {
    const r = await this.db.selectFrom('notification_log').selectAll().where('receiver', '=', receiver).where('group_key', '=', groupKey).executeTakeFirst();
    return r ? { receiver: r.receiver, groupKey: r.group_key, firing: parseList(r.firing), resolved: parseList(r.resolved), sentAt: r.sent_at, expiresAt: r.expires_at } : undefined;
  }

  /** Records a notification, replacing the previous entry of the same receiver integration and group. */
  async upsert(e: NotificationLogEntry): Promise<void> {
    const firing = JSON.stringify([...e.firing].sort());
    const resolved = JSON.stringify([...e.resolved].sort());
    await this.db
      .insertInto('notification_log')
      .values({ receiver: e.receiver, group_key: e.groupKey, firing, resolved, sent_at: e.sentAt, expires_at: e.expiresAt })
      .onConflict((oc) => oc.columns(['receiver', 'group_key']).doUpdateSet({ firing, resolved, sent_at: e.sentAt, expires_at: e.expiresAt }))
      .execute();
  }

  /** Deletes entries expired at `now`; returns how many. */
  async gc(now: number): Promise<number> {
    const r = await this.db.deleteFrom('notification_log').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
