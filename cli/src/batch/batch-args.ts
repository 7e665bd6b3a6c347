import { parseArgs } from 'node:util';
import { TARGET_STATUSES, type TargetStatus } from '@tern/shared/batch/batch-result';
import { TEST_FRAMEWORKS, type TestFramework } from '@tern/shared/batch/framework-detect';

export const batchUsage = `tern batch run <dir|tarball> [--targets GLOB]… [--exclude GLOB]… [--functions]
                [--framework vitest|jest|pytest|go] [--test-command CMD] [--model provider:model]
                [--concurrency N|auto] [--title TEXT] [--out DIR] [--no-wait]
tern batch status <id> [--json]
tern batch list [--all]
tern batch cancel <id>
tern batch retry <id> [--statuses failed,error,budget_exhausted]
tern batch export <id> --out DIR

run     tars a folder here (leaving out .git, node_modules and caches) or sends a tarball, starts
        one agent per target to write tests, and shows progress until the batch ends. Without
        --targets every source file is a target. --functions makes each exported function one.
        Exit code: 0 when every target passed, 1 when some did not, 2 on errors.
status  progress and each target's status, tokens, cost and time.
export  writes <id>.patch (the tests that passed, for git apply) and <id>.junit.xml.`;

export type BatchRunArgs = {
  kind: 'run';
  source: string;
  targets: string[];
  exclude: string[];
  functions: boolean;
  framework?: TestFramework;
  testCommand?: string;
  model?: string;
  concurrency: 'auto' | number;
  title?: string;
  out?: string;
  wait: boolean;
};

export type BatchArgs =
  | BatchRunArgs
  | { kind: 'status'; id: string; json: boolean }
  | { kind: 'list'; all: boolean }
  | { kind: 'cancel'; id: string }
  | { kind: 'retry'; id: string; statuses?: TargetStatus[] }
  | { kind: 'export'; id: string; out: string };

export type ParsedBatchArgs = { ok: true; args: BatchArgs } | { ok: false; message: string };

/** Every source file of the snapshot; the server leaves out tests, dependencies and builds. */
export const DEFAULT_TARGET_GLOBS = ['**/*'];

const refuse = (message: string): ParsedBatchArgs => ({ ok: false, message });

/**
 * `tern batch …` arguments, checked as far as the CLI can without the server (which checks the
 * rest and answers with its own codes). Pure, for tests: no I/O, no exit.
 */
export function parseBatchArgs(argv: readonly string[]): ParsedBatchArgs {
  const [subcommand, ...rest] = argv;
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(rest);
  } catch (error) {
    return refuse((error as Error).message);
  }
  const { values, positionals } = parsed;
  const one = (what: string): string | ParsedBatchArgs => {
    if (positionals.length !== 1) {
      return refuse(
        positionals.length === 0
          ? `tern batch ${subcommand}: give the ${what}`
          : `tern batch ${subcommand}: unexpected ${positionals.slice(1).join(' ')}`,
      );
    }
    return positionals[0]!;
  };
  const allowed = subcommand === undefined ? undefined : ALLOWED[subcommand];
  if (!allowed) return refuse(`tern batch: unknown subcommand ${subcommand ?? '(none)'}`);
  // No option has a default, so every key present was given on the command line.
  const misplaced = Object.keys(values).find((name) => !allowed.includes(name));
  if (misplaced) return refuse(`tern batch ${subcommand}: --${misplaced} does not apply here`);

  switch (subcommand) {
    case 'run': {
      const source = one('folder or tarball to test');
      if (typeof source !== 'string') return source;
      const concurrency = parseConcurrency(values.concurrency);
      if (concurrency === undefined) {
        return refuse('tern batch run: --concurrency takes auto or a whole number from 1 to 1024');
      }
      const framework = values.framework;
      if (framework !== undefined && !isFramework(framework)) {
        return refuse(
          `tern batch run: unknown framework ${framework}; use one of ${TEST_FRAMEWORKS.join(', ')}`,
        );
      }
      return {
        ok: true,
        args: {
          kind: 'run',
          source,
          targets: values.targets?.length ? values.targets : DEFAULT_TARGET_GLOBS,
          exclude: values.exclude ?? [],
          functions: values.functions ?? false,
          ...(framework ? { framework } : {}),
          ...(values['test-command'] ? { testCommand: values['test-command'] } : {}),
          ...(values.model ? { model: values.model } : {}),
          concurrency,
          ...(values.title ? { title: values.title } : {}),
          ...(values.out ? { out: values.out } : {}),
          wait: !values['no-wait'],
        },
      };
    }
    case 'status': {
      const id = one('batch id');
      if (typeof id !== 'string') return id;
      return { ok: true, args: { kind: 'status', id, json: values.json ?? false } };
    }
    case 'list':
      if (positionals.length > 0) return refuse(`tern batch list: unexpected ${positionals[0]}`);
      return { ok: true, args: { kind: 'list', all: values.all ?? false } };
    case 'cancel': {
      const id = one('batch id');
      if (typeof id !== 'string') return id;
      return { ok: true, args: { kind: 'cancel', id } };
    }
    case 'retry': {
      const id = one('batch id');
      if (typeof id !== 'string') return id;
      if (values.statuses === undefined) return { ok: true, args: { kind: 'retry', id } };
      const statuses = values.statuses.split(',').map((s) => s.trim());
      const unknown = statuses.filter((s) => !(TARGET_STATUSES as readonly string[]).includes(s));
      if (unknown.length > 0 || statuses.length === 0) {
        return refuse(
          `tern batch retry: unknown status ${unknown.join(', ')}; use ${TARGET_STATUSES.join(', ')}`,
        );
      }
      return { ok: true, args: { kind: 'retry', id, statuses: statuses as TargetStatus[] } };
    }
    case 'export': {
      const id = one('batch id');
      if (typeof id !== 'string') return id;
      if (!values.out) return refuse('tern batch export: give --out DIR');
      return { ok: true, args: { kind: 'export', id, out: values.out } };
    }
  }
  return refuse(`tern batch: unknown subcommand ${subcommand}`);
}

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  run: [
    'targets',
    'exclude',
    'functions',
    'framework',
    'test-command',
    'model',
    'concurrency',
    'title',
    'out',
    'no-wait',
  ],
  status: ['json'],
  list: ['all'],
  cancel: [],
  retry: ['statuses'],
  export: ['out'],
};

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      targets: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      functions: { type: 'boolean' },
      framework: { type: 'string' },
      'test-command': { type: 'string' },
      model: { type: 'string' },
      concurrency: { type: 'string' },
      title: { type: 'string' },
      out: { type: 'string' },
      'no-wait': { type: 'boolean' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      statuses: { type: 'string' },
    },
  });
}

function parseConcurrency(value: string | undefined): 'auto' | number | undefined {
  if (value === undefined || value === 'auto') return 'auto';
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 1024 ? n : undefined;
}

function isFramework(value: string): value is TestFramework {
  return (TEST_FRAMEWORKS as readonly string[]).includes(value);
}
