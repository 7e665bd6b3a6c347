import type { z } from 'zod';
import { simControlsSchema } from '../protocol/api.ts';
import { approvalPolicySchema } from '../protocol/approval-policy.ts';
import { decodeSegment } from './segment-codec.ts';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportHeader,
  type ExportLine,
} from './session-export-format.ts';
import { parseSegmentName, redisKeys, segmentBlobKey } from './session-keys.ts';
import type { SessionStore } from './session-store.ts';
import { treeContents, WorkspaceObjects } from './workspace-store.ts';
import { FILE_MODE } from './workspace-tree.ts';

/**
 * A session as NDJSON lines (see `session-export-format.ts`), or `undefined` when it does not
 * exist. The head is read once, up front: the export is the log as it was then, even while a turn
 * goes on committing. Segments and files are read one at a time as the consumer pulls lines, so
 * a long session streams in constant memory.
 */
export async function exportSession(
  store: SessionStore,
  id: string,
  now = Date.now(),
): Promise<AsyncGenerator<string> | undefined> {
  const meta = await store.meta(id);
  if (!meta) return undefined;
  const items = await store.redis.lrange(redisKeys.segments(id), 0, -1);
  const lastSeq = parseSegmentName(items.at(-1) ?? '')?.last ?? 0;
  const header: ExportHeader = {
    type: 'session',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    sessionId: id,
    ...(meta.owner ? { owner: meta.owner } : {}),
    title: meta.title,
    model: meta.model,
    systemPrompt: meta.systemPrompt,
    ...optional('sim', simControlsSchema, meta.sim),
    ...optional('approvals', approvalPolicySchema, meta.approvals),
    createdAt: meta.createdAt,
    forkedFrom: meta.forkedFrom ?? null,
    lastSeq,
    exportedAt: now,
  };
  return lines(store, id, header, items);
}

/** A setting stored as JSON ('' for none), as an optional descriptor field. */
function optional<K extends string, S extends z.ZodType>(key: K, schema: S, json: string) {
  if (!json) return {};
  const parsed = schema.safeParse(JSON.parse(json));
  return parsed.success ? ({ [key]: parsed.data } as { [k in K]: z.infer<S> }) : {};
}

async function* lines(
  store: SessionStore,
  id: string,
  header: ExportHeader,
  items: string[],
): AsyncGenerator<string> {
  const line = (value: ExportLine) => `${JSON.stringify(value)}\n`;
  yield line(header);
  let entries = 0;
  let tree: string | undefined;
  for (const item of items) {
    const key = segmentBlobKey(id, item);
    const bytes = await store.blobs.get(key);
    if (!bytes) throw new Error(`session ${id}: segment ${key} is missing from the store`);
    for (const entry of decodeSegment(key, bytes)) {
      entries += 1;
      tree = entry.workspace ?? tree;
      yield line({ type: 'entry', entry });
    }
  }
  // The workspace as the exported log leaves it; the import stores it as its initial tree.
  let files = 0;
  const { base, objects } = await WorkspaceObjects.open(store.blobs, id);
  const workspace = await objects.readTree(tree ?? base.tree);
  for await (const { file, bytes } of treeContents(objects, workspace)) {
    files += 1;
    yield line({
      type: 'file',
      path: file.path,
      base64: Buffer.from(bytes).toString('base64'),
      ...(file.mode === FILE_MODE ? {} : { mode: file.mode }),
    });
  }
  yield line({ type: 'end', entries, files });
}
