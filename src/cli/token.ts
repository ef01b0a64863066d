import { Command } from 'commander';
import { AuditLog } from '../store/state/audit.ts';
import { TOKEN_SCOPES, TokenError, TokenStore } from '../store/state/tokens.ts';
import { cliActor, configOption, dataDirOption, withStateDb } from './state.ts';

function withTokens<T>(opts: { dataDir?: string; config?: string }, fn: (tokens: TokenStore, audit: AuditLog) => Promise<T>): Promise<T> {
  return withStateDb(opts, [TokenError], (db) => fn(new TokenStore(db), new AuditLog(db)));
}

/** `vigil token create|list|revoke`. */
export function tokenCommand(): Command {
  const token = new Command('token').description('Manage API tokens (ingest, read, write, admin)');
  token
    .command('create')
    .description('Create a token; its secret is printed once, alone on the last line')
    .requiredOption('--name <name>', 'unique name, e.g. rms-collector')
    .requiredOption('--scope <scope>', `one of ${TOKEN_SCOPES.join(', ')}`)
    .option('--rate-limit <records/s>', 'ingest limit for this token in records per second (default: ingest.tokenRecordsPerSecond)')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (opts: { name: string; scope: string; rateLimit?: string; dataDir?: string; config?: string }) => {
      const rateLimit = opts.rateLimit === undefined ? null : Number(opts.rateLimit);
      const secret = await withTokens(opts, async (t, audit) => {
        const s = await t.create(opts.name, opts.scope, new Date(), rateLimit);
        await audit.record({ actor: cliActor(), action: 'token.created', target: `token:${opts.name}`, details: { scope: opts.scope, rateLimit } });
        return s;
      });
      process.stdout.write(`Created ${opts.scope} token "${opts.name}". Copy it now: it is not shown again.\n${secret}\n`);
    });
  token
    .command('list')
    .description('List tokens (names, scopes, creation and last use; never secrets)')
    .option('--json', 'one JSON object per token')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (opts: { json?: boolean; dataDir?: string; config?: string }) => {
      const list = await withTokens(opts, (t) => t.list());
      if (opts.json) {
        for (const t of list) process.stdout.write(`${JSON.stringify(t)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write('No tokens. Create one with: vigil token create --name NAME --scope ingest\n');
        return;
      }
      const rows = [['NAME', 'SCOPE', 'CREATED', 'LAST USED', 'STATUS'], ...list.map((t) => [t.name, t.scope, t.createdAt, t.lastUsedAt ?? '-', t.revokedAt ? `revoked ${t.revokedAt}` : 'active'])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });
  token
    .command('revoke')
    .description('Revoke a token by name; it stops working at once')
    .argument('<name>', 'token name')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (name: string, opts: { dataDir?: string; config?: string }) => {
      await withTokens(opts, async (t, audit) => {
        await t.revoke(name);
        await audit.record({ actor: cliActor(), action: 'token.revoked', target: `token:${name}` });
      });
      process.stdout.write(`Revoked token "${name}".\n`);
    });
  return token;
}
