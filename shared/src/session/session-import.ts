import { TernError } from '../errors/tern-error.ts';
import type { LogEntry } from './log-entry.ts';
import { encodeSegment } from './segment-codec.ts';
import {
  EXPORT_VERSION,
  type ExportHeader,
  exportEndLineSchema,
  exportEntryLineSchema,
  exportFileLineSchema,
  exportFormatSchema,
  exportHeaderSchema,
} from './session-export-format.ts';
import { mirrorHead } from './session-fork.ts';
import { blobKeys, redisKeys, segmentName } from './session-keys.ts';
import { type SessionMeta, SessionStore, turnIdFor } from './session-store.ts';
import { type SeedFile, seedWorkspace } from './workspace-store.ts';
import { DIR_MODE, pathProblem } from './workspace-tree.ts';

export type ParsedImport = {
  header: ExportHeader;
  entries: LogEntry[];
  files: SeedFile[];
};

/** Entries per stored segment of an imported log: few blobs to load, none too large. */
const ENTRIES_PER_SEGMENT = 500;

const invalid = (line: number, message: string) =>
  new TernError({
    code: 'invalid_import',
    status: 400,
    message: `line ${line}: ${message}`,
    details: { line },
  });

const issues = (error: { issues: { path: PropertyKey[]; message: string }[] }) =>
  error.issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');

/**
 * Reads an export (see `session-export-format.ts`) line by line, validating each against its
 * schema; the first bad line fails the import with its 1-based number. Checks what schemas cannot:
 * lines in order (descriptor, entries, files, end), seqs `1..n` without gaps, unique paths that
 * stay inside the workspace, and counts matching the end line (a truncated file is refused).
 */
export function parseImport(text: string): ParsedImport {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let header: ExportHeader | undefined;
  const entries: LogEntry[] = [];
  const files: ParsedImport['files'] = [];
  const paths = new Set<string>();
  /** Every folder the paths so far lie in. */
  const folders = new Set<string>();
  let ended = false;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (ended) throw invalid(n, 'nothing may follow the end line');
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw invalid(n, 'not JSON');
    }
    if (!header) {
      header = parseHeader(value);
      continue;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (type === 'entry') {
      if (files.length > 0) throw invalid(n, 'entries come before files');
      const parsed = exportEntryLineSchema.safeParse(value);
      if (!parsed.success) throw invalid(n, `not a log entry: ${issues(parsed.error)}`);
      const entry = parsed.data.entry;
      if (entry.seq !== entries.length + 1) {
        throw invalid(n, `entry seq ${entry.seq} where ${entries.length + 1} was expected`);
      }
      entries.push(entry);
    } else if (type === 'file') {
      const parsed = exportFileLineSchema.safeParse(value);
      if (!parsed.success) throw invalid(n, `not a workspace file: ${issues(parsed.error)}`);
      const { path, base64, mode } = parsed.data;
      if (!storablePath(path)) throw invalid(n, `path ${JSON.stringify(path)} is not allowed`);
      if (paths.has(path)) throw invalid(n, `file ${path} appears twice`);
      // A file, symlink or empty folder cannot also be a folder of other paths.
      const parents = path.split('/').slice(0, -1);
      const parent = parents
        .map((_, i) => parents.slice(0, i + 1).join('/'))
        .find((p) => paths.has(p));
      if (parent !== undefined || folders.has(path)) {
        throw invalid(n, `file ${path} and ${parent ?? `files under ${path}/`} cannot both exist`);
      }
      const bytes = Buffer.from(base64, 'base64');
      if (mode === DIR_MODE && bytes.byteLength > 0) {
        throw invalid(n, `${path} is an empty folder and has no content`);
      }
      paths.add(path);
      for (let i = 1; i <= parents.length; i++) folders.add(parents.slice(0, i).join('/'));
      files.push({ path, bytes, ...(mode === undefined ? {} : { mode }) });
    } else if (type === 'end') {
      const parsed = exportEndLineSchema.safeParse(value);
      if (!parsed.success) throw invalid(n, `not an end line: ${issues(parsed.error)}`);
      if (parsed.data.entries !== entries.length || parsed.data.files !== files.length) {
        throw invalid(
          n,
          `the end line counts ${parsed.data.entries} entries and ${parsed.data.files} files, ` +
            `the export holds ${entries.length} and ${files.length}`,
        );
      }
      ended = true;
    } else {
      throw invalid(n, 'type must be entry, file or end');
    }
  }
  if (!header) throw invalid(1, 'the export is empty');
  if (!ended) throw invalid(lines.length + 1, 'the end line is missing: the export is truncated');
  return { header, entries, files };
}

function parseHeader(value: unknown): ExportHeader {
  const format = exportFormatSchema.safeParse(value);
  if (!format.success) {
    throw new TernError({
      code: 'unsupported_format',
      status: 400,
      message: 'line 1: not a Tern session export (expected a session line of format tern.session)',
      details: { line: 1 },
    });
  }
  if (format.data.version !== EXPORT_VERSION) {
    throw new TernError({
      code: 'unsupported_format',
      status: 400,
      message: `line 1: export format version ${format.data.version} is not supported (this server reads version ${EXPORT_VERSION})`,
      details: { line: 1, version: format.data.version, supported: [EXPORT_VERSION] },
    });
  }
  const parsed = exportHeaderSchema.safeParse(value);
  if (!parsed.success) throw invalid(1, `not a session descriptor: ${issues(parsed.error)}`);
  return parsed.data;
}

/**
 * Beyond the schema's no-`..` rule: no empty or `.` parts either. Any other name a workspace can
 * hold is fine (spaces, any script): files are stored by content hash, not under their path.
 */
function storablePath(path: string): boolean {
  return pathProblem(path) === undefined;
}

/**
 * Stores a parsed export as a new idle session with a fresh id. Entries keep their seq and time;
 * their turn ids are re-derived from the new session id (`turnIdFor`, so they stay consistent with
 * its inputs) and their epoch is 0, as no lease of the new session wrote them. Blobs are written
 * before the head, which makes the session visible in one transaction.
 */
export async function importSession(
  store: SessionStore,
  parsed: ParsedImport,
  now = Date.now(),
  /** The importing user, who owns the new session (the export's owner is another deployment's). */
  owner = '',
): Promise<SessionMeta> {
  const id = SessionStore.newSessionId();
  const turnIds = new Map<string, string>();
  const restamp = (turnId: string) => {
    let mapped = turnIds.get(turnId);
    if (!mapped) {
      const inputSeq = /-t(\d+)$/.exec(turnId)?.[1];
      mapped = inputSeq ? turnIdFor(id, Number(inputSeq)) : `${id}-x${turnIds.size + 1}`;
      turnIds.set(turnId, mapped);
    }
    return mapped;
  };
  // Trees the entries name are in the exporting store, not here: the export's workspace becomes
  // the session's initial tree, as of its last entry.
  const entries = parsed.entries.map(
    ({ workspace: _, ...e }) => ({ ...e, turnId: restamp(e.turnId), epoch: 0 }) as LogEntry,
  );
  let inputSeq = 0;
  for (const e of entries) if (e.kind === 'user_message') inputSeq = Math.max(inputSeq, e.inputSeq);

  const { header } = parsed;
  const meta: SessionMeta = {
    id,
    owner,
    title: header.title,
    model: header.model,
    systemPrompt: header.systemPrompt,
    doubleTexting: 'enqueue',
    sim: header.sim ? JSON.stringify(header.sim) : '',
    approvals: header.approvals ? JSON.stringify(header.approvals) : '',
    // Not exported: webhook URLs are checked against this deployment's allowed prefixes when a
    // session is created, a check an import from elsewhere would bypass.
    hooks: '',
    createdAt: now,
    updatedAt: now,
    status: 'idle',
    lastSeq: entries.length,
    inputSeq,
    doneInputSeq: inputSeq,
    startedInputSeq: inputSeq,
    epoch: 0,
  };
  const segments: string[] = [];
  for (let i = 0; i < entries.length; i += ENTRIES_PER_SEGMENT) {
    const chunk = entries.slice(i, i + ENTRIES_PER_SEGMENT);
    const first = chunk[0]!.seq;
    const last = chunk.at(-1)!.seq;
    await store.blobs.put(blobKeys.segment(id, first, last), encodeSegment(chunk));
    segments.push(segmentName(first, last));
  }
  await seedWorkspace(store.blobs, id, parsed.files);
  await store.blobs.put(blobKeys.meta(id), JSON.stringify(meta));
  const tx = store.redis.multi().hset(redisKeys.meta(id), { ...meta });
  if (segments.length > 0) tx.rpush(redisKeys.segments(id), ...segments);
  if (owner) tx.zadd(redisKeys.ownerIndex(owner), now, id);
  await tx.zadd(redisKeys.sessionIndex, now, id).exec();
  await mirrorHead(store, id);
  return meta;
}
