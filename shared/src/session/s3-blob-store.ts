import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { assertValidKey, type BlobStore, type ListOptions } from './blob-store.ts';
import {
  defaultStoreRetryPolicy,
  type RetryClock,
  type StoreRetryPolicy,
  systemClock,
  withStoreRetries,
} from './store-retry.ts';

export type S3BlobStoreOptions = {
  bucket: string;
  /** Keys are stored under `<prefix>/`, so one bucket can hold several deployments. */
  prefix?: string | undefined;
  /** MinIO, s3rver or another S3-compatible server; unset for AWS itself. */
  endpoint?: string | undefined;
  region: string;
  /** `http://host/bucket/key` rather than `http://bucket.host/key`: what MinIO and s3rver need. */
  forcePathStyle: boolean;
  /** Unset: the SDK's default chain (AWS_* env, shared config, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  retry?: Partial<StoreRetryPolicy> | undefined;
  /** One attempt's limit; a hung connection counts as a failed, retryable attempt. */
  requestTimeoutMs?: number | undefined;
  clock?: RetryClock | undefined;
  onRetry?: ((error: unknown, attempt: number, delayMs: number) => void) | undefined;
};

/** S3 caps DeleteObjects at 1000 keys a request. */
const DELETE_BATCH = 1000;

/**
 * An S3 bucket as a blob store. A `put` resolves only once S3 answered 200 to the PutObject, which
 * S3 sends after the object is durably stored; objects appear whole or not at all, so a failed or
 * interrupted put never leaves a partial blob visible. Retries are Tern's (see store-retry.ts).
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #endpoint: string | undefined;
  readonly #region: string;
  readonly #policy: StoreRetryPolicy;
  readonly #clock: RetryClock;
  readonly #onRetry: S3BlobStoreOptions['onRetry'];

  constructor(options: S3BlobStoreOptions) {
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    this.#endpoint = options.endpoint;
    this.#region = options.region;
    this.#policy = { ...defaultStoreRetryPolicy, ...options.retry };
    this.#clock = options.clock ?? systemClock;
    this.#onRetry = options.onRetry;
    const timeout = options.requestTimeoutMs ?? 10_000;
    this.#client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // One attempt per send: the retry loop is ours, so what happens on a 503 is explicit.
      maxAttempts: 1,
      // Integrity is checked by Tern's own trailers; the SDK's default CRC32 (aws-chunked uploads)
      // is not understood by older S3-compatible servers such as s3rver.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: Math.min(timeout, 3_000), requestTimeout: timeout },
    });
  }

  describe(): string {
    const where = this.#endpoint ? redactEndpoint(this.#endpoint) : `aws ${this.#region}`;
    return `s3://${this.#bucket}/${this.#prefix} (${where})`;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const Key = this.#key(key);
    await this.#retry(`put ${key}`, () =>
      this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key, Body: body })),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.#key(key);
    return this.#retry(`get ${key}`, async () => {
      try {
        const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
        // Reading the body is part of the attempt: a connection cut mid-body is retried too.
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#retry(`list ${prefix}`, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
            ...(options.startAfter && !token
              ? { StartAfter: this.#prefix + options.startAfter }
              : {}),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) keys.push(object.Key.slice(this.#prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async listFolders(prefix: string): Promise<string[]> {
    if (!prefix.endsWith('/')) throw new Error(`listFolders takes a prefix ending in /: ${prefix}`);
    const folders: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#retry(`list ${prefix}`, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            Delimiter: '/',
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const common of page.CommonPrefixes ?? []) {
        if (common.Prefix) folders.push(common.Prefix.slice(this.#prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return folders.sort();
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.#retry(`delete ${prefix} (${batch.length} keys)`, () =>
        this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.#prefix + k })), Quiet: true },
          }),
        ),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `delete ${prefix}: ${failed.length} keys not deleted (${first?.Key}: ${first?.Code} ${first?.Message})`,
        );
      }
    }
    return keys.length;
  }

  async probe(signal: AbortSignal): Promise<void> {
    // At most one key under this deployment's prefix: the endpoint answers, the bucket exists and
    // the credentials may list it, at the same cost however much the bucket holds.
    await this.#client.send(
      new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix, MaxKeys: 1 }),
      { abortSignal: signal },
    );
  }

  /** Closes the client's sockets (tests and shutdown). */
  destroy(): void {
    this.#client.destroy();
  }

  #key(key: string): string {
    assertValidKey(key);
    return this.#prefix + key;
  }

  #retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    return withStoreRetries(
      `${this.describe()}: ${what}`,
      op,
      this.#policy,
      this.#clock,
      this.#onRetry,
    );
  }
}

/** A missing key, but not a missing bucket: that is a configuration error and must be loud. */
function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'NoSuchBucket') return false;
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** An endpoint URL without any user:password part. */
function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '<invalid endpoint>';
  }
}
