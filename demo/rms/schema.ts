/**
 * RMS schema and seed: rights holders own works; usage reports from DSPs/broadcasters bring usage records per period;
 * a royalty run aggregates usage × rate per rights holder; payment batches pay the run's lines through the gateway.
 */
import type { Db, Param } from '../db.ts';
import { between, FIRST_NAMES, LAST_NAMES, pick, rng } from '../random.ts';

/** Bumped when the seed changes shape: an existing database with another version is re-seeded. */
export const SEED_VERSION = '7';

/** The index royalty calculation and statements depend on; the slow-query fault drops it. */
export const USAGE_INDEX = 'idx_usage_period_work';
export const CREATE_USAGE_INDEX = `CREATE INDEX IF NOT EXISTS ${USAGE_INDEX} ON usage_records (period, work_id, units)`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS demo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rights_holders (
  id {{id}}, name TEXT NOT NULL, kind TEXT NOT NULL, country TEXT NOT NULL, payee_account TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS works (
  id {{id}}, title TEXT NOT NULL, iswc TEXT NOT NULL, rights_holder_id INTEGER NOT NULL REFERENCES rights_holders(id),
  rate {{float}} NOT NULL, genre TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_works_holder ON works (rights_holder_id);
CREATE TABLE IF NOT EXISTS usage_reports (
  id {{id}}, source TEXT NOT NULL, period TEXT NOT NULL, received_at TEXT NOT NULL, record_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_records (
  id {{id}}, report_id INTEGER NOT NULL, work_id INTEGER NOT NULL, period TEXT NOT NULL, territory TEXT NOT NULL,
  source TEXT NOT NULL, units INTEGER NOT NULL, revenue {{float}} NOT NULL, raw_line TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS royalty_runs (
  id {{id}}, period TEXT NOT NULL, calculated_at TEXT NOT NULL, holders INTEGER NOT NULL, records INTEGER NOT NULL,
  total_amount {{float}} NOT NULL
);
CREATE TABLE IF NOT EXISTS royalty_lines (
  id {{id}}, run_id INTEGER NOT NULL, rights_holder_id INTEGER NOT NULL, units INTEGER NOT NULL, amount {{float}} NOT NULL,
  paid INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_lines_run ON royalty_lines (run_id, paid);
CREATE INDEX IF NOT EXISTS idx_lines_holder ON royalty_lines (rights_holder_id);
CREATE TABLE IF NOT EXISTS payments (
  id {{id}}, batch_id TEXT NOT NULL, line_id INTEGER NOT NULL, rights_holder_id INTEGER NOT NULL, amount {{float}} NOT NULL,
  status TEXT NOT NULL, gateway_ref TEXT, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_payments_holder ON payments (rights_holder_id);
`;

/** Sizes of the seed: ten years of monthly usage, so one period is <1% of the table and the index matters. */
export const HOLDERS = 1200;
export const WORKS = 3000;
export const USAGE_RECORDS = 600_000;
export const PERIODS = periods(120);

/** `n` monthly periods ending 2025-12, oldest first. */
export function periods(n: number): string[] {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(2025, 11 - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

export const SOURCES = ['Spotify', 'Apple Music', 'YouTube', 'Deezer', 'Tidal', 'BBC Radio', 'Amazon Music', 'SiriusXM'] as const;
export const TERRITORIES = ['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'CA', 'AU', 'SE', 'NL', 'ES', 'IT', 'MX', 'KR'] as const;
const WORDS = ['Midnight', 'River', 'Echo', 'Golden', 'Silent', 'Fire', 'Paper', 'Ocean', 'Neon', 'Wild', 'Glass', 'Summer', 'Velvet', 'Storm', 'Lonely', 'Electric', 'Heart', 'Road', 'Dream', 'City'];
const GENRES = ['pop', 'rock', 'jazz', 'classical', 'hip-hop', 'electronic', 'folk', 'soundtrack'] as const;

/** Creates the schema and seeds it unless this database already holds the current seed. */
export async function ensureSeeded(db: Db, log: (msg: string) => void): Promise<void> {
  await db.exec(SCHEMA);
  const seeded = await db.get<{ value: string }>('SELECT value FROM demo_meta WHERE key = ?', ['seed_version']);
  if (seeded?.value === SEED_VERSION) return;
  const started = Date.now();
  for (const t of ['payments', 'royalty_lines', 'royalty_runs', 'usage_records', 'usage_reports', 'works', 'rights_holders']) {
    await db.run(`DELETE FROM ${t}`);
  }
  const r = rng(20251127);
  const holders: Param[][] = [];
  for (let i = 1; i <= HOLDERS; i++) {
    const kind = i % 5 === 0 ? 'publisher' : i % 7 === 0 ? 'label' : 'songwriter';
    const name =
      kind === 'songwriter' ? `${pick(r, FIRST_NAMES)} ${pick(r, LAST_NAMES)}` : `${pick(r, LAST_NAMES)} ${kind === 'label' ? 'Records' : 'Music Publishing'} ${i}`;
    holders.push([i, name, kind, pick(r, TERRITORIES), `ACCT-${String(100000 + i)}`]);
  }
  await db.bulkInsert('rights_holders', ['id', 'name', 'kind', 'country', 'payee_account'], holders);
  const works: Param[][] = [];
  for (let i = 1; i <= WORKS; i++) {
    const rate = Math.round((0.002 + r() * 0.008) * 1e5) / 1e5;
    works.push([i, `${pick(r, WORDS)} ${pick(r, WORDS)}`, `T-${String(900000000 + i)}-${i % 10}`, between(r, 1, HOLDERS), rate, pick(r, GENRES)]);
  }
  await db.bulkInsert('works', ['id', 'title', 'iswc', 'rights_holder_id', 'rate', 'genre'], works);
  const reports: Param[][] = [];
  const perPeriodSource = new Map<string, number>();
  let reportId = 0;
  for (const p of PERIODS) {
    for (const s of SOURCES) {
      reports.push([++reportId, s, p, `${p}-28T00:00:00Z`, 0]);
      perPeriodSource.set(`${p}|${s}`, reportId);
    }
  }
  let records: Param[][] = [];
  const titles = works.map((w) => String(w[1]));
  const cols = ['id', 'report_id', 'work_id', 'period', 'territory', 'source', 'units', 'revenue', 'raw_line'];
  for (let i = 1; i <= USAGE_RECORDS; i++) {
    // Insert in slices of 20k rows (one transaction each) to keep the seeding heap small.
    if (records.length === 20_000) {
      await db.bulkInsert('usage_records', cols, records);
      records = [];
    }
    const period = PERIODS[i % PERIODS.length] as string;
    const source = pick(r, SOURCES);
    const territory = pick(r, TERRITORIES);
    // Popularity is skewed: a few works get most plays, as in real catalogs.
    const workId = 1 + Math.floor(Math.pow(r(), 2) * WORKS);
    const units = between(r, 1, 5000);
    const revenue = Math.round(units * 0.004 * 100) / 100;
    // The original report line as received, kept for audits (DSP reports carry ISRC, title, artist, product...).
    const raw = `${source.toUpperCase()}|${period}|${territory}|ISRC:QZ${String(4000000 + workId * 7)}|ISWC:T-${900000000 + workId}|"${titles[workId % titles.length]}"|"${pick(r, FIRST_NAMES)} ${pick(r, LAST_NAMES)}"|${pick(r, ['stream', 'download', 'broadcast', 'sync'])}|${units}|${revenue.toFixed(2)}|USD|net|std-v2|${String(i).padStart(9, '0')}`;
    records.push([i, perPeriodSource.get(`${period}|${source}`) ?? 1, workId, period, territory, source, units, revenue, raw]);
  }
  await db.bulkInsert('usage_records', cols, records);
  await db.bulkInsert('usage_reports', ['id', 'source', 'period', 'received_at', 'record_count'], reports.map((x) => [x[0] ?? 0, x[1] ?? '', x[2] ?? '', x[3] ?? '', USAGE_RECORDS / reports.length]));
  if (db.system === 'postgresql') {
    // Explicit ids were inserted: move the sequences past them.
    for (const t of ['rights_holders', 'works', 'usage_reports', 'usage_records']) {
      await db.get(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT MAX(id) FROM ${t}))`);
    }
  }
  await db.exec(CREATE_USAGE_INDEX);
  await db.exec(db.system === 'sqlite' ? 'ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)' : 'ANALYZE usage_records');
  await db.run('DELETE FROM demo_meta WHERE key = ?', ['seed_version']);
  await db.run('INSERT INTO demo_meta (key, value) VALUES (?, ?)', ['seed_version', SEED_VERSION]);
  log(`seeded ${HOLDERS} rights holders, ${WORKS} works, ${USAGE_RECORDS} usage records in ${Date.now() - started} ms`);
}
