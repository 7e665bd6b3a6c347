import { startStack } from '../test/helpers/stack.ts';
import { enqueueToStart } from './cluster-enqueue.ts';
import { startUnderFlood } from './cluster-fairness.ts';
import { firstToken } from './cluster-first-token.ts';
import { relayThroughput } from './cluster-relay.ts';
import { SCALING_CONCURRENCY, workerScaling } from './cluster-scaling.ts';

const CONCURRENCY = 128;

/**
 * Tern as separate api, gateway and worker processes on one private redis-server, each figure
 * beside a floor measured in the same run. The simulator answers at zero latency unless a figure
 * says otherwise.
 */
export async function run(): Promise<void> {
  const started = performance.now();
  const figure = (n: number, title: string, body: string) =>
    console.log(`\n-- ${n}. ${title} --\n${body}`);

  const stack = await startStack({
    workers: 2,
    env: { WORKER_CONCURRENCY: String(CONCURRENCY) },
  });
  try {
    console.log(
      `1 api, 1 gateway, 2 worker processes (WORKER_CONCURRENCY=${CONCURRENCY}), simulator, own redis-server; ${navigator.hardwareConcurrency} cores.`,
    );
    figure(1, 'enqueue → turn start', await enqueueToStart(stack, CONCURRENCY));
    figure(2, 'POST → first token at a socket.io client', await firstToken(stack, [1, 50, 200]));
    figure(3, 'events per second through one gateway', await relayThroughput(stack));
    figure(5, 'interactive turn start under a batch flood', await startUnderFlood(stack));
  } finally {
    await stack.stop();
  }

  const scaling = await startStack({
    workers: 1,
    env: { WORKER_CONCURRENCY: String(SCALING_CONCURRENCY) },
  });
  try {
    figure(4, 'turns per second by worker processes', await workerScaling(scaling, [1, 2, 4]));
  } finally {
    await scaling.stop();
  }
  console.log(`\ncluster bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
