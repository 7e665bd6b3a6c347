/**
 * `npm run bench -- <name>`: runs one benchmark (or all, without a name). Each prints its figures
 * beside a baseline measured in the same run.
 */
const benches: Record<string, () => Promise<void>> = {
  skeleton: async () => (await import('./skeleton.ts')).run(),
  llm: async () => (await import('./llm.ts')).run(),
  agent: async () => (await import('./agent.ts')).run(),
  sessions: async () => (await import('./sessions.ts')).run(),
  obs: async () => (await import('./obs.ts')).run(),
  cluster: async () => (await import('./cluster.ts')).run(),
  batch: async () => (await import('./batch.ts')).run(),
};

/** Options that take a value (`--targets 100`): the value is not a benchmark's name. */
const VALUE_OPTIONS = new Set(['--targets']);
const args = process.argv.slice(2);
const names = args.filter((a, i) => !a.startsWith('-') && !VALUE_OPTIONS.has(args[i - 1] ?? ''));
const chosen = names.length > 0 ? names : Object.keys(benches);
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== ${name} ==`);
  await bench();
}
process.exit(0);
