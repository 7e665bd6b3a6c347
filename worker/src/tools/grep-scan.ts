import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join, matchesGlob, relative, sep } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

/** What the grep tool asks of its scanning thread. */
export type GrepJob = {
  /** Real path of the workspace root; results are relative to it. */
  root: string;
  /** Real path of the file or directory to search. */
  start: string;
  pattern: string;
  flags: string;
  glob?: string;
  maxResults: number;
};

export type GrepReport = {
  lines: string[];
  /** Stopped at maxResults with more files left to search. */
  capped: boolean;
  filesSearched: number;
  skipped: { large: number; binary: number };
};

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_LINE_CHARS = 300;

/**
 * Runs in a worker thread so that a pathological regex (catastrophic backtracking) blocks only
 * this thread, which the tool terminates on timeout or cancel, never the worker's event loop.
 * Symlinks are skipped, so nothing outside the workspace is read.
 */
export function scan(job: GrepJob): GrepReport {
  const regex = new RegExp(job.pattern, job.flags);
  const report: GrepReport = {
    lines: [],
    capped: false,
    filesSearched: 0,
    skipped: { large: 0, binary: 0 },
  };
  const files = walk(job.start);
  for (const file of files) {
    const rel = relative(job.root, file).split(sep).join('/');
    if (job.glob && !matchesGlob(rel, job.glob) && !matchesGlob(rel.split('/').at(-1)!, job.glob)) {
      continue;
    }
    const size = lstatSync(file).size;
    if (size > MAX_FILE_BYTES) {
      report.skipped.large++;
      continue;
    }
    if (looksBinary(file)) {
      report.skipped.binary++;
      continue;
    }
    report.filesSearched++;
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      if (!regex.test(line)) continue;
      if (report.lines.length >= job.maxResults) {
        report.capped = true;
        return report;
      }
      const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
      report.lines.push(`${rel}:${i + 1}: ${shown}`);
    }
  }
  return report;
}

function* walk(start: string): Generator<string> {
  const info = lstatSync(start);
  if (info.isFile()) {
    yield start;
    return;
  }
  if (!info.isDirectory()) return;
  const entries = readdirSync(start, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    const path = join(start, entry.name);
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function looksBinary(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(8192);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

if (parentPort && workerData) {
  try {
    parentPort.postMessage({ report: scan(workerData as GrepJob) });
  } catch (error) {
    parentPort.postMessage({ error: (error as Error).message });
  }
}
