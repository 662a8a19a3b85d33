import type { Command } from 'commander';
import { bashCompletion } from '../completion.js';
import type { CliContext } from '../context.js';

export function registerCompletionCommand(program: Command, cli: CliContext): void {
  program
    .command('completion')
    .argument('<shell>', 'only "bash" for now')
    .description('print a shell completion script for coreforge')
    .addHelpText(
      'after',
      '\nscripts/install puts it in /usr/share/bash-completion/completions/coreforge.\n\nExample:\n  source <(coreforge completion bash)',
    )
    .action((shell: string) => {
      if (shell !== 'bash') throw new Error(`cannot print completion for ${JSON.stringify(shell)}: only bash is supported; run "coreforge completion bash"`);
      cli.stdout.write(bashCompletion(program));
    });
}
