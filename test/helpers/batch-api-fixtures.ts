import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTar, type TestTarEntry } from '@tern/shared/batch/tar-test-kit';

/** A small vitest project: two source files with one exported function each, and a link. */
export const batchProject: TestTarEntry[] = [
  { type: 'file', path: 'package.json', content: '{"devDependencies":{"vitest":"^4.0.0"}}\n' },
  {
    type: 'file',
    path: 'src/math.ts',
    content: 'export function add(a: number, b: number) {\n  return a + b;\n}\n',
  },
  {
    type: 'file',
    path: 'src/text.ts',
    content: 'export const shout = (s: string) => s.toUpperCase();\n',
  },
  { type: 'symlink', path: 'src/alias.ts', target: 'math.ts' },
];

/** An inline tarball source of `POST /v1/batches`. */
export const tarballSource = (entries: readonly TestTarEntry[]) => ({
  kind: 'tarball',
  base64: makeTar(entries, { gzip: true }).toString('base64'),
});

/** A valid batch request over `batchProject`, with `extra` fields on top. */
export const batchJob = (extra: Record<string, unknown> = {}) => ({
  source: tarballSource(batchProject),
  targets: { globs: ['src/**'] },
  ...extra,
});

/** `batchProject`'s files written into a folder (its link left out). */
export function writeBatchProject(dir: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const entry of batchProject) {
    if (entry.type === 'file') writeFileSync(join(dir, entry.path), entry.content);
  }
}
