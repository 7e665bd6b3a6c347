import type { TargetStatus } from '@tern/shared/batch/batch-result';
import type { ErrorBody } from '@tern/shared/protocol/api';
import {
  type BatchDetail,
  type BatchSummary,
  batchDetailSchema,
  batchSummarySchema,
} from '@tern/shared/protocol/batch-api';
import { z } from 'zod';
import { ApiError, fetchApi, refusal } from '../client/api-client.ts';

/** Creating and cancelling both answer with the summary. */
const createdSchema = z.object({ batch: batchSummarySchema });
const listSchema = z.object({
  batches: z.array(batchSummarySchema),
  nextCursor: z.string().nullable().optional(),
});
const retriedSchema = z.object({ retried: z.number().int().nonnegative() });

/**
 * The batch routes of Tern's HTTP API for the CLI. Answers are read through the shared schemas,
 * so a server of another version fails with a clear `bad_response` rather than odd output.
 */
export class BatchClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.#token = token;
  }

  async create(body: unknown): Promise<BatchSummary> {
    return (await this.#json('POST', '/v1/batches', createdSchema, body)).batch;
  }

  get(id: string): Promise<BatchDetail> {
    return this.#json('GET', `/v1/batches/${encodeURIComponent(id)}`, batchDetailSchema);
  }

  async list(all: boolean): Promise<BatchSummary[]> {
    return (await this.#json('GET', `/v1/batches${all ? '?all=true' : ''}`, listSchema)).batches;
  }

  async cancel(id: string): Promise<BatchSummary> {
    const path = `/v1/batches/${encodeURIComponent(id)}/cancel`;
    return (await this.#json('POST', path, createdSchema)).batch;
  }

  async retry(id: string, statuses?: TargetStatus[]): Promise<number> {
    const path = `/v1/batches/${encodeURIComponent(id)}/retry`;
    return (await this.#json('POST', path, retriedSchema, statuses ? { statuses } : {})).retried;
  }

  /** `report.patch` or `report.xml`, as text. */
  async report(id: string, name: 'report.patch' | 'report.xml'): Promise<string> {
    return (await this.#send('GET', `/v1/batches/${encodeURIComponent(id)}/${name}`)).text();
  }

  async #json<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const res = await this.#send(method, path, body);
    const text = await res.text();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, 'bad_response', `${method} ${path} answered no JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new ApiError(
        res.status,
        'bad_response',
        `${method} ${path} answered what this CLI cannot read: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }

  async #send(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetchApi(this.baseUrl, this.#token, method, path, body);
    if (res.ok) return res;
    const text = await res.text();
    let error: ErrorBody['error'] | undefined;
    try {
      error = (JSON.parse(text) as Partial<ErrorBody>).error;
    } catch {
      // not JSON: the status says enough
    }
    throw refusal(res.status, error);
  }
}
