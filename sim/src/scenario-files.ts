import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseScenario, type Scenario } from './scenario.ts';

/**
 * Reads every `*.json` file of a folder as a scenario (`SIM_SCENARIOS_DIR`). A document without
 * `name` is named after its file. Any unreadable or invalid file fails the whole load, naming the
 * file, because a benchmark silently running without its script measures the wrong thing.
 */
export async function loadScenarioDir(dir: string): Promise<Scenario[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const path = join(dir, file);
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
      }
      const named =
        typeof doc === 'object' && doc !== null && !('name' in doc)
          ? parseScenario(doc, basename(file, '.json'))
          : parseScenario(doc);
      if (!named.ok) throw new Error(`${path}: ${named.message}`);
      return named.scenario;
    }),
  );
}
