import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.ts';

/**
 * The simulator in its own process, so the client under measurement has the CPU to itself and
 * every client in a comparison talks to the same server.
 */
export async function startSimProcess(env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../sim/src/sim-main.ts', import.meta.url))],
    {
      env: { PATH: process.env.PATH, SIM_PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sim exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}
