/**
 * The `vigil` command. Each subcommand lives in its own module; this file only assembles them.
 */
import { Command } from 'commander';
import { agentCommand } from '../agent/command.ts';
import { demoCommand } from './demo.ts';
import { searchCommand } from './search.ts';
import { startCommand } from './start.ts';
import { tokenCommand } from './token.ts';
import { userCommand } from './user.ts';

const program = new Command()
  .name('vigil')
  .description('Self-hosted monitoring and troubleshooting: ingest OpenTelemetry and Splunk HEC data, search, alert, resolve.')
  .showHelpAfterError()
  .addCommand(startCommand())
  .addCommand(agentCommand())
  .addCommand(tokenCommand())
  .addCommand(userCommand())
  .addCommand(searchCommand())
  .addCommand(demoCommand());

await program.parseAsync(process.argv);
