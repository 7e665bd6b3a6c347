import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadScenarioDir } from './scenario-files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-sim-scenarios-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('loadScenarioDir', () => {
  it('reads every .json file, naming unnamed documents after their file', async () => {
    await writeFile(join(dir, 'b.json'), JSON.stringify({ name: 'named', steps: [{ text: 'b' }] }));
    await writeFile(join(dir, 'a-file.json'), JSON.stringify({ steps: [{ text: 'a' }] }));
    await writeFile(join(dir, 'notes.txt'), 'not a scenario');
    const scenarios = await loadScenarioDir(dir);
    expect(scenarios.map((s) => s.name)).toEqual(['a-file', 'named']);
  });

  it('fails on an invalid file, naming it', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ steps: [{ finish: 'x' }] }));
    await expect(loadScenarioDir(dir)).rejects.toThrow(
      `${join(dir, 'bad.json')}: steps[0].finish must be one of stop, length, tool_calls`,
    );
    await writeFile(join(dir, 'bad.json'), '{');
    await expect(loadScenarioDir(dir)).rejects.toThrow(/bad\.json is not valid JSON/);
  });
});
