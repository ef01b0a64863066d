/**
 * `vigil rules check FILE…`: checks alerting rule files offline, as `promtool check rules` does.
 * Every problem is printed to stderr as `file:line: field: message` and the command exits 1; a good
 * file prints `file: N groups, M rules OK`. A directory stands for its `*.yml`/`*.yaml` files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseRuleFile } from '../alerting/rule.ts';
import { formatFileError } from '../monitors/files.ts';

/** Checks files; returns the exit status (0 when all are valid, else 1). */
export function checkRuleFiles(paths: readonly string[], out: (line: string) => void, err: (line: string) => void): number {
  let status = 0;
  const files: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // Unreadable or missing: reported by the read below.
    }
    if (isDir) {
      const inside = readdirSync(p).filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith('.')).sort();
      if (!inside.length) out(`${p}: no rule files (*.yml, *.yaml)`);
      files.push(...inside.map((f) => join(p, f)));
    } else files.push(p);
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      err(`${file}: cannot read the file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      status = 1;
      continue;
    }
    const { groups, errors } = parseRuleFile(file, text);
    if (errors.length) {
      for (const e of errors) err(formatFileError(e));
      status = 1;
      continue;
    }
    const rules = groups.reduce((n, g) => n + g.rules.length, 0);
    out(`${file}: ${groups.length} ${groups.length === 1 ? 'group' : 'groups'}, ${rules} ${rules === 1 ? 'rule' : 'rules'} OK`);
  }
  return status;
}

/** The `vigil rules` command. */
export function rulesCommand(): Command {
  const rules = new Command('rules').description('Alerting rule files (Prometheus rule-file format with Vigil queries; see docs/alerting-rules.md).');
  rules
    .command('check')
    .description('Check rule files without a server: prints file:line: field: message for each problem and exits 1, or a summary per file.')
    .argument('<files...>', 'rule files (or directories of *.yml/*.yaml files)')
    .addHelpText('after', '\nExamples:\n  vigil rules check rules/*.yml\n  vigil rules check ./data/rules\n\nExit status: 0 when every file is valid, 1 when any has a problem, 2 for a usage error.\n')
    .action((files: string[]) => {
      const status = checkRuleFiles(
        files,
        (line) => process.stdout.write(`${line}\n`),
        (line) => process.stderr.write(`${line}\n`),
      );
      process.exitCode = status;
    });
  return rules;
}
