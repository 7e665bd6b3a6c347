import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import {
  addBatchFlow,
  BATCH_QUEUE,
  BATCH_TARGET_QUEUE,
  type BatchJobData,
  type BatchTargetJobData,
  batchJobDataSchema,
  batchJobId,
  batchTargetJobDataSchema,
  batchTargetJobId,
} from './batch-queue.ts';

let redis: TestRedis;
let connection: { url: string; maxRetriesPerRequest: null };
let parents: Queue;
let children: Queue;

beforeAll(async () => {
  redis = await startRedis();
  connection = { url: redis.url, maxRetriesPerRequest: null };
  parents = new Queue(BATCH_QUEUE, { connection });
  children = new Queue(BATCH_TARGET_QUEUE, { connection });
});

afterAll(async () => {
  await parents?.close();
  await children?.close();
  await redis?.stop();
});

const newBatchId = () => `bat_${randomBytes(8).toString('hex')}`;

describe('addBatchFlow', () => {
  it('adds a parent per flow and a child per target attempt, under deterministic ids', async () => {
    const batchId = newBatchId();
    const targets = [
      { id: 't0', attempt: 1 },
      { id: 't1', attempt: 1 },
      { id: 't2', attempt: 1 },
    ];
    await addBatchFlow(connection, { batchId, targets, flowNo: 1 });

    const parent = await parents.getJob(batchJobId(batchId, 1));
    expect(parent?.id).toBe(`batch-${batchId}-1`);
    expect(batchJobDataSchema.parse(parent?.data)).toEqual({ batchId, flowNo: 1 });
    expect(await parent?.getState()).toBe('waiting-children');
    const child = await children.getJob(batchTargetJobId(batchId, 't1', 1));
    expect(child?.id).toBe(`${batchId}-t1-a1`);
    expect(batchTargetJobDataSchema.parse(child?.data)).toEqual({
      batchId,
      targetId: 't1',
      attempt: 1,
    });
    expect(child?.opts.attempts).toBe(5);
    const dependencies = await parent?.getDependenciesCount();
    expect(dependencies?.unprocessed).toBe(3);
  });

  it('adds nothing when the same flow is added again (a retried request)', async () => {
    const batchId = newBatchId();
    const flow = { batchId, targets: [{ id: 't0', attempt: 1 }], flowNo: 1 };
    const producer = new FlowProducer({ connection });
    try {
      await addBatchFlow(producer, flow);
      const before = await children.getJobCounts('waiting', 'prioritized', 'delayed');
      const parentsBefore = await parents.getJobCounts('waiting-children', 'waiting');
      await addBatchFlow(producer, flow);
      expect(await children.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual(before);
      expect(await parents.getJobCounts('waiting-children', 'waiting')).toEqual(parentsBefore);
    } finally {
      await producer.close();
    }
  });

  it('runs the parent once every child is through, even one that failed for good', async () => {
    const batchId = newBatchId();
    const seen: string[] = [];
    const childWorker = new Worker<BatchTargetJobData>(
      BATCH_TARGET_QUEUE,
      async (job) => {
        if (job.data.batchId !== batchId) return;
        seen.push(job.data.targetId);
        if (job.data.targetId === 't1') throw new UnrecoverableError('the target cannot run');
      },
      { connection },
    );
    let finish: (data: BatchJobData) => void = () => {};
    const parentDone = new Promise<BatchJobData>((resolve) => {
      finish = resolve;
    });
    const parentWorker = new Worker<BatchJobData>(
      BATCH_QUEUE,
      async (job) => {
        if (job.data.batchId === batchId) finish(job.data);
      },
      { connection },
    );
    try {
      await addBatchFlow(connection, {
        batchId,
        targets: [
          { id: 't0', attempt: 1 },
          { id: 't1', attempt: 1 },
        ],
        flowNo: 1,
      });
      expect(await parentDone).toEqual({ batchId, flowNo: 1 });
      expect(seen.sort()).toEqual(['t0', 't1']);
    } finally {
      await childWorker.close();
      await parentWorker.close();
    }
  });
});
