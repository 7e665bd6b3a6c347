import { parseArgs } from 'node:util';
import { ConfigError } from '@tern/shared/config/config';
import { ApiError } from './client/api-client.ts';

const usage = `tern — a self-hosted harness for LLM coding agents

Usage:
  tern up [--workers N] [--no-ui]   run everything on this machine (default: 1 worker, UI on)
  tern api | gateway | worker | dispatcher | sim | ui
                                     run one role in the foreground (dispatcher: batch jobs)
  tern run "<prompt>" [--session ID] [--model provider:model]
                                     send one message and stream the turn
  tern chat [--session ID] [--model provider:model]
                                     an interactive session in the terminal
  tern users add <name> [--admin]    create a user and print its first API token (once)
  tern users token <name>            print another API token for the user (once)
  tern users list                    users, roles and token ids
  tern users revoke <name|token-id>  revoke every token of a user, or one token
  tern session stats <id> [--turns N] [--json]
                                     what a session did and cost: totals, tools, and each
                                     turn's model and tool calls with timings
  tern vllm check <url> [--model NAME] [--api-key KEY] [--json]
                                     check a vLLM server's models, streaming, tool calling and
                                     metrics; each failure says what to change on the server
  tern batch run <dir|tarball> [--targets GLOB]… [--functions] [--model provider:model] …
                                     agents write tests for many targets at once; a progress
                                     bar until it ends, then the reports (tern batch --help)
  tern batch status|list|cancel|retry|export …
                                     follow, stop, re-run the failed, or export a batch
  tern sessions rebuild-heads [--force] [--no-requeue]
                                     after a Redis loss: restore every session's head from the
                                     blob store and re-queue turns that were cut short

Configuration comes from the environment (see README): REDIS_URL, BLOB_STORE, TERN_MODEL,
provider keys, ports. \`run\` and \`chat\` use TERN_TOKEN, or the admin token \`tern up\` saved.`;

/** Each command's module loads on demand, so `tern run` does not pay for what `tern up` needs. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'up': {
        const { values } = parseArgs({
          args: rest,
          options: {
            workers: { type: 'string', default: '1' },
            'no-ui': { type: 'boolean', default: false },
          },
        });
        const workers = Number(values.workers);
        if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
          process.stderr.write('tern up: --workers takes a whole number from 1 to 64\n');
          return 2;
        }
        const { up } = await import('./commands/up.ts');
        return await up({ workers, ui: !values['no-ui'] });
      }
      case 'api':
      case 'gateway':
      case 'worker':
      case 'dispatcher':
      case 'sim':
      case 'ui':
        return await (await import('./commands/run-role.ts')).runRole(command);
      case 'run': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { session: { type: 'string' }, model: { type: 'string' } },
        });
        const prompt = positionals.join(' ').trim();
        if (!prompt) {
          process.stderr.write('tern run: give a prompt, e.g. tern run "list the files"\n');
          return 2;
        }
        return await (await import('./commands/client-commands.ts')).runCommand(prompt, values);
      }
      case 'chat': {
        const { values } = parseArgs({
          args: rest,
          options: { session: { type: 'string' }, model: { type: 'string' } },
        });
        return await (await import('./commands/client-commands.ts')).chatCommand(values);
      }
      case 'users': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { admin: { type: 'boolean', default: false } },
        });
        if (positionals.length > 2) {
          process.stderr.write(`tern users: unexpected ${positionals.slice(2).join(' ')}\n`);
          return 2;
        }
        const { usersCommand } = await import('./commands/users.ts');
        return await usersCommand({
          subcommand: positionals[0],
          target: positionals[1],
          admin: values.admin,
        });
      }
      case 'session': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { turns: { type: 'string' }, json: { type: 'boolean', default: false } },
        });
        const [subcommand, id, ...extra] = positionals;
        if (subcommand !== 'stats' || !id || extra.length > 0) {
          process.stderr.write(`tern session: use tern session stats <id>\n\n${usage}\n`);
          return 2;
        }
        const turns = values.turns === undefined ? undefined : Number(values.turns);
        if (turns !== undefined && (!Number.isInteger(turns) || turns < 1 || turns > 1000)) {
          process.stderr.write('tern session stats: --turns takes a whole number from 1 to 1000\n');
          return 2;
        }
        const { sessionStatsCommand } = await import('./commands/session-stats.ts');
        return await sessionStatsCommand(id, { json: values.json, ...(turns ? { turns } : {}) });
      }
      case 'vllm': {
        if (rest[0] !== 'check') {
          process.stderr.write(`tern vllm: use tern vllm check <url>\n\n${usage}\n`);
          return 2;
        }
        return await (await import('./commands/vllm-check.ts')).vllmCheckCommand(rest.slice(1));
      }
      case 'batch': {
        if (rest[0] === undefined || rest[0] === '--help' || rest[0] === 'help') {
          const { batchUsage } = await import('./batch/batch-args.ts');
          process.stdout.write(`${batchUsage}\n`);
          return rest[0] === undefined ? 2 : 0;
        }
        return await (await import('./commands/batch.ts')).batchCommand(rest);
      }
      case 'sessions': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            force: { type: 'boolean', default: false },
            'no-requeue': { type: 'boolean', default: false },
          },
        });
        if (positionals[0] !== 'rebuild-heads') {
          process.stderr.write(
            `tern sessions: unknown subcommand ${positionals[0] ?? ''}\n\n${usage}\n`,
          );
          return 2;
        }
        const { rebuildHeads } = await import('./commands/rebuild-heads.ts');
        return await rebuildHeads({ force: values.force, requeue: !values['no-requeue'] });
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${usage}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`tern: unknown command ${command}\n\n${usage}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ApiError || error instanceof ConfigError) {
      process.stderr.write(`tern: ${error.message}\n`);
      return 1;
    }
    if (
      error instanceof TypeError &&
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`tern: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    throw error;
  }
}
