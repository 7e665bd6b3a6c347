import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '@tern/shared/config/config';
import { notFound, TernError } from '@tern/shared/errors/tern-error';
import {
  deleteSessionQuerySchema,
  forkSessionBodySchema,
  type SessionCreatedResponse,
} from '@tern/shared/protocol/api';
import { type TurnJobData, turnJobId } from '@tern/shared/queue/turn-queue';
import { deleteSession } from '@tern/shared/session/session-delete';
import { exportSession } from '@tern/shared/session/session-export';
import { NDJSON } from '@tern/shared/session/session-export-format';
import { forkSession } from '@tern/shared/session/session-fork';
import { importSession, parseImport } from '@tern/shared/session/session-import';
import { SessionStore } from '@tern/shared/session/session-store';
import type { Queue } from 'bullmq';
import express, { Router } from 'express';
import { callerOf } from '../http/auth-caller.ts';
import { requireJsonBody } from '../http/require-json.ts';
import { sessionIdParam } from '../http/session-id-param.ts';
import { parseOr400 } from '../http/validate.ts';

export type SessionOpsDeps = {
  config: Config;
  store: SessionStore;
  turns: Queue<TurnJobData>;
};

/**
 * Whole-session operations: fork at a seq, export and import as NDJSON, delete. Mounted before
 * the app-wide JSON body handling, because import takes NDJSON; the fork route parses its JSON
 * body itself.
 */
export function sessionOpsRoutes(deps: SessionOpsDeps): Router {
  const { store, config } = deps;
  const router = Router();
  const json = [requireJsonBody, express.json({ limit: config.MAX_BODY_BYTES, strict: true })];
  // Whole sessions are far larger than a message: imports have their own limit.
  const ndjson = express.text({ type: NDJSON, limit: config.MAX_IMPORT_BYTES });

  router.post('/v1/sessions/import', ndjson, async (req, res) => {
    if (!req.is(NDJSON) || typeof req.body !== 'string') {
      throw new TernError({
        code: 'unsupported_media_type',
        status: 415,
        message: `send the export as ${NDJSON}`,
      });
    }
    const meta = await importSession(store, parseImport(req.body), Date.now(), callerOf(req).id);
    res.status(201).json({ session: SessionStore.summary(meta) } satisfies SessionCreatedResponse);
  });

  router.post('/v1/sessions/:id/fork', ...json, async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const body = parseOr400(forkSessionBodySchema, req.body ?? {}, 'body');
    const result = await forkSession(store, id, {
      atSeq: body.atSeq,
      title: body.title,
      owner: callerOf(req).id,
    });
    if (result.kind === 'not_found') throw notFound('session', id);
    if (result.kind === 'seq_out_of_range') {
      throw new TernError({
        code: 'seq_out_of_range',
        status: 400,
        message: `atSeq ${body.atSeq} is past the session's last entry (${result.lastSeq})`,
        details: { lastSeq: result.lastSeq },
      });
    }
    const created = await store.meta(result.meta.id);
    if (!created) throw notFound('session', result.meta.id);
    res
      .status(201)
      .json({ session: SessionStore.summary(created) } satisfies SessionCreatedResponse);
  });

  router.get('/v1/sessions/:id/export', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const lines = await exportSession(store, id);
    if (!lines) throw notFound('session', id);
    res.status(200);
    res.setHeader('content-type', `${NDJSON}; charset=utf-8`);
    res.setHeader('content-disposition', `attachment; filename="${id}.ndjson"`);
    // A failure mid-stream cannot become an error status any more: the connection is cut, and
    // the missing end line tells an importer the file is incomplete.
    await pipeline(Readable.from(lines), res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });

  router.delete('/v1/sessions/:id', async (req, res) => {
    const id = sessionIdParam(req.params.id);
    const query = parseOr400(deleteSessionQuerySchema, req.query, 'query');
    const result = await deleteSession(store, id, { force: query.force === 'true' });
    if (result.kind === 'not_found') throw notFound('session', id);
    if (result.kind === 'busy') {
      throw new TernError({
        code: 'session_busy',
        status: 409,
        message: `a turn of session ${id} is running; cancel it first or delete with ?force=true`,
      });
    }
    await removeTurnJobs(deps.turns, id, result.inputSeq);
    res.status(204).end();
  });

  return router;
}

/**
 * Finished turn jobs are kept by the queue for a while and name the session; they go too. Best
 * effort: a job still locked by a worker (a forced delete) is left to the queue's retention.
 */
async function removeTurnJobs(turns: Queue<TurnJobData>, id: string, inputSeq: number) {
  for (let first = 1; first <= inputSeq; first += 50) {
    const seqs = Array.from({ length: Math.min(50, inputSeq - first + 1) }, (_, i) => first + i);
    await Promise.all(seqs.map((s) => turns.remove(turnJobId(id, s)).catch(() => 0)));
  }
}
