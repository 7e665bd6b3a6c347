import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore } from '@tern/shared/session/blob-store';
import { openBlobStore } from '@tern/shared/session/open-blob-store';
import type { S3BlobStoreOptions } from '@tern/shared/session/s3-blob-store';
import { freePort } from './free-port.ts';

const s3rverBin = fileURLToPath(
  new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url),
);

export type TestS3 = {
  endpoint: string;
  port: number;
  bucket: string;
  /** s3rver's fixed credentials: it checks request signatures against these. */
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  /** Environment for a Tern process using this server as its store. */
  env(prefix?: string): Record<string, string>;
  /** Options of an `S3BlobStore` in the test's own process on `bucket` (this server's by default). */
  storeOptions(bucket?: string): S3BlobStoreOptions;
  /**
   * The store a Tern process given `env(prefix)` opens, opened the same way (openBlobStore) in the
   * test's own process, with its retries bounded by `retryBudgetMs` (10 s by default).
   */
  openStore(prefix?: string, retryBudgetMs?: number): BlobStore;
  /** Stops the server process (SIGKILL by default): requests fail until `start`. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory, so every stored object is still there. */
  start(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
};

/**
 * A private s3rver (a real S3-protocol HTTP server backed by a folder) in its own process on a free
 * port, with one bucket. Its own process so that tests can kill and restart it like a store outage.
 * s3rver ignores conditional writes; Tern never relies on them.
 */
export async function startS3(bucket = 'tern-test-bucket'): Promise<TestS3> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tern-s3-'));
  const logFile = join(dir, 's3rver.log');
  const dataDir = join(dir, 'data');
  let child: ChildProcess | undefined;
  const start = async () => {
    const log = createWriteStream(logFile, { flags: 'a' });
    child = spawn(
      process.execPath,
      [
        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in
        // its legacy provider: without it every truncated listing (over 1000 keys) answers 500.
        '--openssl-legacy-provider',
        s3rverBin,
        '-d',
        dataDir,
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '--configure-bucket',
        bucket,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    await waitForHttp(`http://127.0.0.1:${port}/`, child);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(signal);
    await exited;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir: dataDir,
    env: (prefix) => ({
      BLOB_STORE: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    }),
    storeOptions: (storeBucket = bucket) => ({
      bucket: storeBucket,
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    }),
    openStore: (prefix, retryBudgetMs = 10_000) =>
      openBlobStore({
        BLOB_STORE: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`,
        S3_ENDPOINT: endpoint,
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: true,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        S3_RETRY_BUDGET_MS: retryBudgetMs,
        S3_REQUEST_TIMEOUT_MS: 5_000,
      }),
    kill,
    start,
    stop: async () => {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      } catch {
        return '';
      }
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}`);
    try {
      // Any answer (403 for an unsigned request) means it listens.
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`s3rver did not answer ${url}`);
}
