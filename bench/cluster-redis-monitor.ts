import { Redis } from 'ioredis';

export type MonitoredCommand = { atUs: number; args: string[] };

/**
 * Every command Redis executes, stamped by Redis itself (MONITOR, microseconds): one clock for
 * the API, the workers and the benchmark, finer than stream ids (milliseconds). MONITOR slows
 * Redis a little; both sides of a comparison are measured under it.
 */
export async function monitorRedis(url: string) {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  const monitor = await client.monitor();
  const commands: MonitoredCommand[] = [];
  let baseSec: number | undefined;
  monitor.on('monitor', (time: string, args: string[]) => {
    const [sec = '0', usec = '0'] = time.split('.');
    baseSec ??= Number(sec);
    commands.push({ atUs: (Number(sec) - baseSec) * 1e6 + Number(usec.padEnd(6, '0')), args });
  });
  return {
    commands,
    /** When Redis first ran a command naming all of `needles` (in any argument), from `fromUs`. */
    firstWith(needles: string[], fromUs = 0): number | undefined {
      for (const c of commands) {
        if (c.atUs < fromUs) continue;
        const text = c.args.join(' ');
        if (needles.every((n) => text.includes(n))) return c.atUs;
      }
      return undefined;
    },
    async stop() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}
