import type { Config } from '../config/config.ts';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';

export type StoreConfig = Pick<
  Config,
  | 'BLOB_STORE'
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_FORCE_PATH_STYLE'
  | 'AWS_ACCESS_KEY_ID'
  | 'AWS_SECRET_ACCESS_KEY'
  | 'S3_RETRY_BUDGET_MS'
  | 'S3_REQUEST_TIMEOUT_MS'
>;

/** The store named by BLOB_STORE: `file:<dir>` (the default) or `s3://<bucket>[/<prefix>]`. */
export function openBlobStore(config: StoreConfig): BlobStore {
  const spec = config.BLOB_STORE;
  if (spec.startsWith('file:')) return new FileBlobStore(spec.slice('file:'.length));
  const s3 = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(spec);
  if (s3?.[1]) {
    const credentials =
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
        : undefined;
    return new S3BlobStore({
      bucket: s3[1],
      prefix: s3[2],
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      credentials,
      retry: { budgetMs: config.S3_RETRY_BUDGET_MS },
      requestTimeoutMs: config.S3_REQUEST_TIMEOUT_MS,
    });
  }
  throw new Error(
    `BLOB_STORE ${spec} is not supported: use file:<dir> or s3://<bucket>[/<prefix>]`,
  );
}
