/**
 * The `vigil` command. Each subcommand lives in its own module; this file only assembles them and
 * applies the rules every command shares (strict parsing, exit statuses, closed pipes).
 */
import { Command, CommanderError } from 'commander';
import { agentCommand } from '../agent/command.ts';
import { alertsCommand } from './alerts.ts';
import { changeCommand } from './change.ts';
import { demoCommand } from './demo.ts';
import { incidentCommand } from './incident.ts';
import { rulesCommand } from './rules.ts';
import { actionCommand, runbookCommand } from './runbook.ts';
import { searchCommand } from './search.ts';
import { silenceCommand } from './silence.ts';
import { startCommand } from './start.ts';
import { tokenCommand } from './token.ts';
import { userCommand } from './user.ts';

/** Exit status of a usage error (unknown option, excess argument, unknown command), as for invalid configuration. */
const USAGE_ERROR = 2;

/**
 * Makes a command and all its subcommands strict: an unknown option or an excess argument is an error
 * naming it, and an option belongs only to the command it follows — `vigil demo fault list --admin-port 1`
 * must not quietly hand `--admin-port` to `vigil demo` and then talk to the default port. Commander
 * applies these settings per command and `addCommand` does not copy them, so they are set on each.
 */
function strict(cmd: Command): void {
  cmd
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    // Help exits 0; every parse error exits 2 instead of Commander's 1, so scripts can tell usage from failure.
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR));
  for (const sub of cmd.commands) strict(sub);
}

// `vigil search … | head`: once the reader is gone there is nobody left to tell, so stop quietly
// instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const program = new Command()
  .name('vigil')
  .description('Self-hosted monitoring and troubleshooting: ingest OpenTelemetry and Splunk HEC data, search, alert, resolve.')
  .addCommand(startCommand())
  .addCommand(agentCommand())
  .addCommand(tokenCommand())
  .addCommand(userCommand())
  .addCommand(searchCommand())
  .addCommand(alertsCommand())
  .addCommand(rulesCommand())
  .addCommand(silenceCommand())
  .addCommand(incidentCommand())
  .addCommand(runbookCommand())
  .addCommand(actionCommand())
  .addCommand(changeCommand())
  .addCommand(demoCommand());
strict(program);

await program.parseAsync(process.argv);
