import { parseBatchJobRequest } from '@tern/shared/batch/batch-job-request';
import { type BatchResult, TARGET_STATUSES } from '@tern/shared/batch/batch-result';
import type { BatchStore } from '@tern/shared/batch/batch-store';
import { writeJunitReport } from '@tern/shared/batch/report-junit';
import { writeBatchPatch } from '@tern/shared/batch/report-patch';
import type { Config } from '@tern/shared/config/config';
import { notFound, TernError } from '@tern/shared/errors/tern-error';
import {
  type BatchDetail,
  type BatchSummary,
  batchIdSchema,
  batchTargetIdSchema,
  isTerminalTargetStatus,
  listBatchesQuerySchema,
  retryBatchBodySchema,
} from '@tern/shared/protocol/batch-api';
import { addBatchFlow } from '@tern/shared/queue/batch-queue';
import type { FlowProducer } from 'bullmq';
import express, { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { createBatch } from '../batch/create-batch.ts';
import { callerOf } from '../http/auth-caller.ts';
import { parseOr400 } from '../http/validate.ts';

export type BatchDeps = {
  config: Config;
  batches: BatchStore;
  /** Adds the batches' flows; one producer for the process. */
  flows: FlowProducer;
};

/**
 * `POST /v1/batches` carries its snapshot inline: 64 MiB of tarball is about 85 MiB of base64
 * (batch-job-request.ts), plus the rest of the request. This route alone takes that much.
 */
export const BATCH_BODY_LIMIT = 96 * 1024 * 1024;

const reportQuerySchema = z
  .object({
    /** Which targets' files the patch holds (default: those that passed). */
    statuses: z
      .string()
      .transform((s) => s.split(','))
      .pipe(z.array(z.enum(TARGET_STATUSES)).min(1))
      .optional(),
  })
  .strict();

const batchParam = (value: unknown): string => {
  const id = batchIdSchema.safeParse(value);
  if (!id.success) throw notFound('batch', String(value ?? '').slice(0, 100));
  return id.data;
};

/**
 * Batch jobs over HTTP (issue 8). Mounted before the API's JSON parser: the create route parses
 * its large body itself and the others their small ones. Ownership is checked by the gate on
 * `/v1/batches/:id` (auth-owner-gate.ts).
 */
export function batchRoutes(deps: BatchDeps): Router {
  const { batches, config } = deps;
  const router = Router();
  const small = express.json({ limit: config.MAX_BODY_BYTES, strict: true });

  router.post(
    '/v1/batches',
    express.json({ limit: BATCH_BODY_LIMIT, strict: true }),
    batchBodyTooLarge,
    async (req: Request, res: Response) => {
      const request = parseBatchJobRequest(req.body ?? {});
      const id = await createBatch(deps, request, callerOf(req).id);
      // The detail (a summary with the targets), so the caller sees what was found to test.
      const detail = await batches.detail(id);
      if (!detail) throw notFound('batch', id);
      res.status(201).json({ batch: detail });
    },
  );

  router.get('/v1/batches', async (req, res) => {
    const query = parseOr400(listBatchesQuerySchema, req.query, 'query');
    const caller = callerOf(req);
    if (query.all === 'true' && !caller.admin) {
      throw new TernError({
        code: 'admin_only',
        status: 403,
        message: "only admins may list other users' batches",
      });
    }
    const page = await batches.list(
      query.all === 'true' ? undefined : caller.id,
      query.limit,
      Number(query.cursor ?? 0),
    );
    res.json({
      batches: page.batches,
      nextCursor: page.next === null ? null : String(page.next),
    });
  });

  router.get('/v1/batches/:id', async (req, res) => {
    const id = batchParam(req.params.id);
    const detail: BatchDetail | undefined = await batches.detail(id);
    if (!detail) throw notFound('batch', id);
    res.json(detail);
  });

  router.get('/v1/batches/:id/targets/:targetId', async (req, res) => {
    const id = batchParam(req.params.id);
    const targetId = batchTargetIdSchema.safeParse(req.params.targetId);
    const state = targetId.success ? await batches.target(id, targetId.data) : undefined;
    if (!state) {
      if (!(await batches.meta(id))) throw notFound('batch', id);
      throw notFound('batch_target', String(req.params.targetId).slice(0, 100));
    }
    const result = isTerminalTargetStatus(state.status)
      ? await batches.result(id, state.id)
      : undefined;
    if (!result) {
      throw new TernError({
        code: 'target_not_finished',
        status: 404,
        message: `target ${state.id} of ${id} is ${state.status}; its result exists once it finished`,
        details: { status: state.status },
      });
    }
    res.json(result);
  });

  router.get('/v1/batches/:id/report.patch', async (req, res) => {
    const id = batchParam(req.params.id);
    const query = parseOr400(reportQuerySchema, req.query, 'query');
    const patch = writeBatchPatch(
      await resultOf(batches, id),
      query.statuses ? { statuses: query.statuses } : {},
    );
    res
      .status(200)
      .type('text/x-diff')
      .setHeader('x-tern-patch-files', String(patch.files.length))
      .send(patch.patch);
  });

  router.get('/v1/batches/:id/report.xml', async (req, res) => {
    const id = batchParam(req.params.id);
    res
      .status(200)
      .type('application/xml')
      .send(writeJunitReport(await resultOf(batches, id)));
  });

  router.post('/v1/batches/:id/cancel', async (req, res) => {
    const id = batchParam(req.params.id);
    const status = await batches.requestCancel(id);
    if (status === undefined) throw notFound('batch', id);
    // 202 while the dispatchers stop its targets; 200 when it had already ended.
    res.status(status === 'cancelling' ? 202 : 200).json({ batch: await summaryOf(batches, id) });
  });

  router.post('/v1/batches/:id/retry', small, async (req, res) => {
    const id = batchParam(req.params.id);
    const body = parseOr400(retryBatchBodySchema, req.body ?? {}, 'body');
    const retry = await batches.markRetry(id, body.statuses);
    if (retry.kind === 'missing') throw notFound('batch', id);
    if (retry.kind === 'cancelling') {
      throw new TernError({
        code: 'batch_cancelling',
        status: 409,
        message: `batch ${id} is being cancelled; retry once it has ended`,
      });
    }
    if (retry.targets.length > 0) {
      await addBatchFlow(deps.flows, { batchId: id, flowNo: retry.flowNo, targets: retry.targets });
    }
    res.status(202).json({ retried: retry.targets.length });
  });

  return router;
}

/** A body over the batch limit: the same code as any other, with what the limit is for. */
const batchBodyTooLarge: ErrorRequestHandler = (error, _req, _res, next) => {
  if ((error as { type?: string }).type !== 'entity.too.large') {
    next(error);
    return;
  }
  next(
    new TernError({
      code: 'payload_too_large',
      status: 413,
      message: `a batch request may be up to ${BATCH_BODY_LIMIT} bytes (a snapshot tarball of 64 MiB in base64); leave dependencies and build output out of the snapshot`,
      details: { limit: BATCH_BODY_LIMIT },
    }),
  );
};

async function summaryOf(batches: BatchStore, id: string): Promise<BatchSummary> {
  const summary = await batches.summary(id);
  if (!summary) throw notFound('batch', id);
  return summary;
}

/** The finished targets' results so far, as the reports take them. */
async function resultOf(batches: BatchStore, id: string): Promise<BatchResult> {
  const meta = await batches.meta(id);
  if (!meta) throw notFound('batch', id);
  return {
    jobId: id,
    ...(meta.title ? { title: meta.title } : {}),
    framework: meta.framework,
    model: meta.model,
    startedAt: new Date(meta.createdAt).toISOString(),
    targets: await batches.results(id),
  };
}
