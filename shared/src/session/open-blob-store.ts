import type { Config } from '../config/config.ts';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';

/** The store named by BLOB_STORE. S3 arrives with durable sessions; the folder store is the default. */
export function openBlobStore(config: Config): BlobStore {
  const spec = config.BLOB_STORE;
  if (spec.startsWith('file:')) return new FileBlobStore(spec.slice('file:'.length));
  throw new Error(`BLOB_STORE ${spec} is not supported yet: use file:<dir>`);
}
