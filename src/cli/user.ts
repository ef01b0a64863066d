import { Command } from 'commander';
import { AuditLog } from '../store/state/audit.ts';
import { SessionStore } from '../store/state/sessions.ts';
import { randomPassword, ROLES, UserError, UserStore } from '../store/state/users.ts';
import { fail } from './options.ts';
import { cliActor, configOption, dataDirOption, withStateDb } from './state.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function withUsers<T>(opts: { dataDir?: string; config?: string }, fn: (users: UserStore, audit: AuditLog, sessions: SessionStore) => Promise<T>): Promise<T> {
  // Lifetimes do not matter here: the CLI only ends sessions.
  return withStateDb(opts, [UserError], (db) => fn(new UserStore(db), new AuditLog(db), new SessionStore(db, { idleMs: 0, absoluteMs: 0 })));
}

/** `vigil user create|list|delete|reset-password`. */
export function userCommand(): Command {
  const user = new Command('user').description('Manage users who sign in to the UI (roles: admin, responder, viewer)');
  user
    .command('create')
    .description('Create a user; without --password-stdin a random password is generated and printed once')
    .option('--username <name>', 'sign-in name (default admin with --admin)')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'viewer')
    .option('--admin', 'shorthand for --role admin (and --username admin if none is given)')
    .option('--password-stdin', 'read the password from standard input')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (o: { username?: string; role: string; admin?: boolean; passwordStdin?: boolean; dataDir?: string; config?: string }) => {
      const username = o.username ?? (o.admin ? 'admin' : undefined);
      if (!username) fail('give --username NAME (or --admin)', 2);
      const role = o.admin ? 'admin' : o.role;
      const password = o.passwordStdin ? await readStdin() : randomPassword();
      await withUsers(o, async (users, audit) => {
        await users.create({ username, password, role });
        await audit.record({ actor: cliActor(), action: 'user.created', target: `user:${username}`, details: { role } });
      });
      process.stdout.write(`Created ${role} user "${username}".\n`);
      if (!o.passwordStdin) process.stdout.write(`Password (shown once):\n${password}\n`);
    });
  user
    .command('list')
    .description('List users and roles')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (o: { dataDir?: string; config?: string }) => {
      const list = await withUsers(o, (users) => users.list());
      if (list.length === 0) process.stdout.write('No users. Create one with: vigil user create --admin\n');
      for (const u of list) process.stdout.write(`${u.username.padEnd(24)} ${u.role.padEnd(10)} created ${u.createdAt}\n`);
    });
  user
    .command('delete')
    .description('Delete a user and end their sessions')
    .argument('<username>')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (username: string, o: { dataDir?: string; config?: string }) => {
      await withUsers(o, async (users, audit) => {
        const u = await users.byName(username);
        if (!u) fail(`no user "${username}"`, 2);
        await users.delete(u.id);
        await audit.record({ actor: cliActor(), action: 'user.deleted', target: `user:${username}` });
      });
      process.stdout.write(`Deleted user "${username}".\n`);
    });
  user
    .command('reset-password')
    .description("Set a new password (random unless --password-stdin) and end the user's sessions")
    .argument('<username>')
    .option('--password-stdin', 'read the password from standard input')
    .option(...dataDirOption)
    .option(...configOption)
    .action(async (username: string, o: { passwordStdin?: boolean; dataDir?: string; config?: string }) => {
      const password = o.passwordStdin ? await readStdin() : randomPassword();
      await withUsers(o, async (users, audit, sessions) => {
        const u = await users.byName(username);
        if (!u) fail(`no user "${username}"`, 2);
        await users.setPassword(u.id, password);
        await sessions.revokeAllFor(u.id);
        await audit.record({ actor: cliActor(), action: 'user.password_reset', target: `user:${username}` });
      });
      process.stdout.write(`New password for "${username}"${o.passwordStdin ? ' set' : ' (shown once):\n' + password}\n`);
    });
  return user;
}
