import { describe, expect, it } from 'vitest';
import { turnCommits } from '../../../test/helpers/session-fixtures.ts';
import { sealLines } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { LOG_SCHEMA_VERSION } from './log-entry.ts';
import { decodeSegment, encodeSegment } from './segment-codec.ts';
import { blobKeys } from './session-keys.ts';
import { decodeSnapshotPack, encodeSnapshotPack } from './snapshot-codec.ts';

const entries = [...turnCommits(1, 1), ...turnCommits(2, 6)].flat();
const items = ['ses_parent/0000000001-0000000005', '0000000006-0000000010'];
const key = blobKeys.snapshot('ses_a', 1, 10);

describe('snapshot pack codec', () => {
  it('round-trips the entries and the segment list items it folds', () => {
    const pack = { first: 1, last: 10, items, entries };
    expect(decodeSnapshotPack(key, Buffer.from(encodeSnapshotPack(pack)))).toEqual(pack);
  });

  it('holds a range that does not start at seq 1', () => {
    const pack = { first: 6, last: 10, items: items.slice(1), entries: entries.slice(5) };
    const k = blobKeys.snapshot('ses_a', 6, 10);
    expect(decodeSnapshotPack(k, Buffer.from(encodeSnapshotPack(pack)))).toEqual(pack);
  });

  it('writes the same bytes from fresh entries and from entries read back from segments', () => {
    // Two workers pack one log: one from its commits, one after a cold load.
    const readBack = decodeSegment(
      blobKeys.segment('ses_a', 1, 10),
      Buffer.from(encodeSegment(entries)),
    );
    // Fresh entries lack the defaults the schema fills in on reading.
    const raw = entries.map((e) => {
      if (e.kind !== 'assistant_message') return e;
      const { reasoning: _, ...rest } = e;
      return rest as typeof e;
    });
    expect(encodeSnapshotPack({ first: 1, last: 10, items, entries: raw })).toBe(
      encodeSnapshotPack({ first: 1, last: 10, items, entries: readBack }),
    );
  });

  it('rejects a pack whose entries do not cover its range', () => {
    const gapped = encodeSnapshotPack({ first: 1, last: 10, items, entries: entries.slice(1) });
    expect(() => decodeSnapshotPack(key, Buffer.from(gapped))).toThrow(CorruptBlobError);
  });

  it('fills in defaults for packs written before schema versions, and trusts current ones', () => {
    const pack = { first: 1, last: 10, items, entries };
    const current = encodeSnapshotPack(pack);
    expect(current.split('\n')[0]).toContain(`"schema":${LOG_SCHEMA_VERSION}`);
    // An older pack: no version in its header and an entry missing a defaulted field.
    const lines = current.split('\n');
    const header = JSON.parse(lines[0]!);
    delete header.schema;
    const at = lines.findIndex((l) => l.includes('"assistant_message"'));
    const entry = JSON.parse(lines[at]!);
    delete entry.reasoning;
    lines[0] = JSON.stringify(header);
    lines[at] = JSON.stringify(entry);
    const older = sealLines(`${lines.slice(0, -2).join('\n')}\n`);
    const decoded = decodeSnapshotPack(key, Buffer.from(older));
    expect(decoded.entries[at - 1]).toMatchObject({ kind: 'assistant_message', reasoning: '' });
    // A current pack whose line is not even an entry's shape is still refused.
    const broken = current.split('\n');
    broken[1] = JSON.stringify({ hello: 'world' });
    const resealed = sealLines(`${broken.slice(0, -2).join('\n')}\n`);
    expect(() => decodeSnapshotPack(key, Buffer.from(resealed))).toThrow(/not a log entry/);
  });

  it('detects a flipped byte', () => {
    const bytes = Buffer.from(encodeSnapshotPack({ first: 1, last: 10, items, entries }));
    bytes[200] = bytes[200] === 0x61 ? 0x62 : 0x61;
    expect(() => decodeSnapshotPack(key, bytes)).toThrow(/checksum/);
  });
});
