import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tarDirectory } from '@tern/shared/batch/tar-writer';
import { ConfigError, loadConfig } from '@tern/shared/config/config';
import { TernError } from '@tern/shared/errors/tern-error';
import type { BatchDetail, BatchSummary, BatchTargetState } from '@tern/shared/protocol/batch-api';
import {
  type BatchArgs,
  type BatchRunArgs,
  batchUsage,
  parseBatchArgs,
} from '../batch/batch-args.ts';
import { BatchClient } from '../batch/batch-client.ts';
import {
  compact,
  formatDuration,
  ProgressDisplay,
  type ProgressOut,
  progressLine,
} from '../batch/progress-bar.ts';
import { ApiError } from '../client/api-client.ts';
import { clientToken } from '../client/client-token.ts';

/** The API takes at most this much archive inline (batch-job-request.ts); bigger is refused here. */
const MAX_TARBALL_BYTES = 64 * 1024 * 1024;
/** Progress is polled: simple, and it survives API restarts; live streaming is the UI's. */
const POLL_MS = 1000;
/** How long the API may stay unreachable while a run is followed before the CLI gives up. */
const UNREACHABLE_GRACE_MS = 60_000;

type Io = { stdout: { write(text: string): unknown }; stderr: ProgressOut };

/**
 * `tern batch …`. Exit codes: 0 when every target passed (or the subcommand did its job), 1
 * when a followed batch ended with targets that did not pass, 2 on errors (bad arguments, a
 * refused request, an unreachable API).
 */
export async function batchCommand(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const parsed = parseBatchArgs(argv);
  if (!parsed.ok) {
    io.stderr.write(`${parsed.message}\n\n${batchUsage}\n`);
    return 2;
  }
  try {
    return await dispatch(parsed.args, client(), io);
  } catch (error) {
    if (error instanceof ApiError || TernError.isInstance(error)) {
      io.stderr.write(`tern batch: ${error.message} (${error.code})\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`tern batch: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function client(): BatchClient {
  const config = loadConfig();
  const host = config.TERN_HOST === '0.0.0.0' ? '127.0.0.1' : config.TERN_HOST;
  return new BatchClient(
    config.TERN_API_URL ?? `http://${host}:${config.API_PORT}`,
    clientToken(config),
  );
}

async function dispatch(args: BatchArgs, api: BatchClient, io: Io): Promise<number> {
  switch (args.kind) {
    case 'run':
      return run(args, api, io);
    case 'status': {
      const detail = await api.get(args.id);
      io.stdout.write(
        args.json ? `${JSON.stringify(detail, null, 2)}\n` : formatDetail(detail, true),
      );
      return 0;
    }
    case 'list': {
      const batches = await api.list(args.all);
      io.stdout.write(batches.length === 0 ? 'no batches\n' : formatList(batches));
      return 0;
    }
    case 'cancel': {
      const summary = await api.cancel(args.id);
      io.stdout.write(`${summary.id} ${summary.status}\n`);
      return 0;
    }
    case 'retry': {
      const retried = await api.retry(args.id, args.statuses);
      io.stdout.write(`${args.id}: ${retried} target(s) queued again\n`);
      return 0;
    }
    case 'export': {
      for (const path of await exportReports(api, args.id, args.out)) {
        io.stdout.write(`${path}\n`);
      }
      return 0;
    }
  }
}

async function run(args: BatchRunArgs, api: BatchClient, io: Io): Promise<number> {
  const base64 = await snapshotBase64(args.source, io);
  const created = await api.create({
    ...(args.title ? { title: args.title } : {}),
    source: { kind: 'tarball', base64 },
    targets: { globs: args.targets, exclude: args.exclude, functions: args.functions },
    ...(args.framework ? { framework: args.framework } : {}),
    ...(args.testCommand ? { testCommand: args.testCommand } : {}),
    ...(args.model ? { model: args.model } : {}),
    concurrency: args.concurrency,
  });
  io.stderr.write(
    `batch ${created.id}: ${created.progress.total} target(s), ${created.framework} (${created.testCommand}), model ${created.model}\n`,
  );
  if (!args.wait) {
    io.stdout.write(`${created.id}\n`);
    return 0;
  }
  io.stderr.write(
    `following it; Ctrl+C stops following, not the batch (tern batch cancel ${created.id})\n`,
  );
  const detail = await follow(api, created.id, io);
  io.stdout.write(formatDetail(detail, false));
  if (args.out) {
    for (const path of await exportReports(api, detail.id, args.out)) {
      io.stdout.write(`wrote ${path}\n`);
    }
  }
  return detail.progress.passed === detail.progress.total ? 0 : 1;
}

/** A folder is archived here; anything else is sent as the tarball it should be. */
async function snapshotBase64(source: string, io: Io): Promise<string> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new ApiError(0, 'snapshot_not_found', `${source} does not exist`);
  if (info.isDirectory()) {
    const tar = await tarDirectory(source, { maxArchiveBytes: MAX_TARBALL_BYTES });
    const left = tar.skippedDirs.length > 0 ? `; left out ${listed(tar.skippedDirs)}` : '';
    io.stderr.write(
      `packed ${tar.files} file(s) of ${resolve(source)}: ${mib(tar.bytes)} → ${mib(tar.archive.length)} gzipped${left}\n`,
    );
    if (tar.unsupported.length > 0) {
      io.stderr.write(`not packed (sockets, fifos, devices): ${listed(tar.unsupported)}\n`);
    }
    return tar.archive.toString('base64');
  }
  if (info.size > MAX_TARBALL_BYTES) {
    throw new ApiError(
      0,
      'snapshot_too_large',
      `${source} is ${mib(info.size)}; the API takes tarballs up to ${mib(MAX_TARBALL_BYTES)}`,
    );
  }
  return (await readFile(source)).toString('base64');
}

/** Polls the batch until it ends, drawing progress on stderr; brief API outages are waited out. */
async function follow(api: BatchClient, id: string, io: Io): Promise<BatchDetail> {
  const display = new ProgressDisplay(io.stderr);
  let unreachableSince: number | undefined;
  try {
    for (;;) {
      let detail: BatchDetail;
      try {
        detail = await api.get(id);
        unreachableSince = undefined;
      } catch (error) {
        const transient = error instanceof ApiError && (error.status === 0 || error.status >= 500);
        unreachableSince ??= Date.now();
        if (!transient || Date.now() - unreachableSince > UNREACHABLE_GRACE_MS) throw error;
        await sleep(POLL_MS);
        continue;
      }
      display.update(detail.progress, detail.status);
      if (detail.status === 'done' || detail.status === 'cancelled') return detail;
      await sleep(POLL_MS);
    }
  } finally {
    display.finish();
  }
}

async function exportReports(api: BatchClient, id: string, out: string): Promise<string[]> {
  const [patch, junit] = await Promise.all([
    api.report(id, 'report.patch'),
    api.report(id, 'report.xml'),
  ]);
  await mkdir(out, { recursive: true });
  const paths = [join(out, `${id}.patch`), join(out, `${id}.junit.xml`)];
  await writeFile(paths[0]!, patch);
  await writeFile(paths[1]!, junit);
  return paths;
}

const label = (t: Pick<BatchTargetState, 'file' | 'name'>) =>
  t.name ? `${t.file}#${t.name}` : t.file;

/** A batch in a few lines: what it is, its progress, and its targets (all, or those not passed). */
export function formatDetail(detail: BatchDetail, allTargets: boolean): string {
  const title = detail.title ? ` "${detail.title}"` : '';
  const lines = [
    `${detail.id} ${detail.status}${title} · ${detail.framework} (${detail.testCommand}) · ${detail.model} · concurrency ${detail.concurrency}`,
    progressLine(detail.progress, { columns: 160, ascii: true, status: detail.status }),
  ];
  const shown = allTargets ? detail.targets : detail.targets.filter((t) => t.status !== 'passed');
  const width = Math.max(0, ...shown.map((t) => t.status.length));
  for (const target of shown.slice(0, allTargets ? undefined : 50)) {
    const figures = [
      `${compact(target.tokens.input + target.tokens.output)} tok`,
      `$${target.costUsd.toFixed(4)}`,
      ...(target.durationMs === undefined ? [] : [formatDuration(target.durationMs)]),
      ...(target.attempt > 1 ? [`attempt ${target.attempt}`] : []),
    ];
    const error = target.error ? ` — ${target.error.code}: ${target.error.message}` : '';
    lines.push(
      `  ${target.status.padEnd(width)}  ${target.id.padEnd(5)} ${label(target)}  ${figures.join(' · ')}${error}`,
    );
  }
  if (!allTargets && shown.length > 50) lines.push(`  … and ${shown.length - 50} more`);
  return `${lines.join('\n')}\n`;
}

export function formatList(batches: readonly BatchSummary[]): string {
  return batches
    .map((b) => {
      const p = b.progress;
      const when = new Date(b.createdAt).toISOString().slice(0, 16).replace('T', ' ');
      return `${b.id}  ${b.status.padEnd(10)}  ${p.done}/${p.total} done, ${p.passed} passed  ${when}${b.title ? `  ${b.title}` : ''}`;
    })
    .join('\n')
    .concat('\n');
}

function listed(items: readonly string[]): string {
  return items.length <= 6
    ? items.join(', ')
    : `${items.slice(0, 6).join(', ')} and ${items.length - 6} more`;
}

function mib(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
