import { z } from 'zod';
import type { TernError } from '../errors/tern-error.ts';
import { modelRefSchema } from '../protocol/api.ts';
import { type BatchErrorCode, batchError } from './batch-errors.ts';
import { TEST_FRAMEWORKS } from './framework-detect.ts';
import { PROMPT_PLACEHOLDERS, unknownPlaceholders } from './prompt-template.ts';

/**
 * `POST /v1/batches` (and `tern batch run`): what to test, how, and within which budgets. Paths
 * and globs are relative to the snapshot and may not climb out of it; everything has an upper
 * bound. `parseBatchJobRequest` answers each kind of bad input with its own code.
 */

/** base64 of at most 64 MiB of archive; the API's body limit applies first. */
const MAX_TARBALL_BASE64 = Math.ceil((64 * 1024 * 1024) / 3) * 4;

const relativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'),
    'paths are relative to the snapshot and stay inside it',
  );

const glob = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (g) => !g.startsWith('/') && !g.split('/').includes('..'),
    'globs are relative to the snapshot and stay inside it',
  );

export const batchSourceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('tarball'),
      /** A tar archive, gzipped or not, in base64. */
      base64: z
        .string()
        .min(1)
        .max(MAX_TARBALL_BASE64)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('upload'),
      /** An archive uploaded beforehand, for snapshots too big for a JSON body. */
      uploadId: z
        .string()
        .regex(/^upl_[A-Za-z0-9]{8,40}$/, 'upload ids look like upl_<alphanumerics>'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('directory'),
      /** An absolute path on the server, inside a folder the operator allows. */
      path: z.string().min(1).max(4096).startsWith('/', 'a server directory is an absolute path'),
    })
    .strict(),
]);
export type BatchSource = z.infer<typeof batchSourceSchema>;

export const batchTargetsSchema = z
  .object({
    globs: z.array(glob).max(100).default([]),
    files: z.array(relativePath).max(10_000).default([]),
    /** One target per exported function or class of the selected files, instead of per file. */
    functions: z.boolean().default(false),
    functionTargets: z
      .array(
        z
          .object({
            file: relativePath,
            name: z
              .string()
              .regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?$/, 'a function, class or Type.Method'),
          })
          .strict(),
      )
      .max(10_000)
      .default([]),
    exclude: z.array(glob).max(100).default([]),
    maxTargets: z.int().min(1).max(10_000).default(1000),
  })
  .strict()
  .refine((t) => t.globs.length + t.files.length + t.functionTargets.length > 0, {
    message: 'give at least one glob, file or function target',
  });

export const targetBudgetSchema = z
  .object({
    /** Model calls of the target's agent. */
    maxSteps: z.int().min(1).max(500).default(40),
    maxTokens: z.int().min(1).optional(),
    maxCostUsd: z.number().positive().optional(),
    maxWallSeconds: z.int().min(1).max(86_400).default(1800),
  })
  .strict();

/** The session's simulator controls, with a scenario that may name the target. */
export const batchSimControlsSchema = z
  .object({
    scenario: z
      .string()
      .regex(
        /^(?:[A-Za-z0-9._-]|\{\{(?:function|index)\}\}){1,100}$/,
        'a scenario name, with {{function}} or {{index}}',
      )
      .optional(),
    fault: z
      .string()
      .regex(/^[a-z_]{1,40}$/)
      .optional(),
    ttftMs: z.int().min(0).max(600_000).optional(),
    itlMs: z.int().min(0).max(60_000).optional(),
  })
  .strict();
export type BatchSimControls = z.infer<typeof batchSimControlsSchema>;

export const jobBudgetSchema = z
  .object({
    maxTokens: z.int().min(1).optional(),
    maxCostUsd: z.number().positive().optional(),
    maxWallSeconds: z
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
  })
  .strict();

export const batchJobRequestSchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    source: batchSourceSchema,
    targets: batchTargetsSchema,
    /** Detected from package.json, pytest configuration or go.mod when absent. */
    framework: z.enum(TEST_FRAMEWORKS).optional(),
    /** The framework's own command when absent (`npx vitest run`, `python3 -m pytest -q`…). */
    testCommand: z.string().trim().min(1).max(1000).optional(),
    promptTemplate: z
      .string()
      .min(1)
      .max(20_000)
      .refine((t) => unknownPlaceholders(t).length === 0, {
        message: `unknown placeholder; known: ${PROMPT_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ')}`,
      })
      .optional(),
    budgets: z
      .object({
        perTarget: targetBudgetSchema.default(targetBudgetSchema.parse({})),
        job: jobBudgetSchema.default({}),
      })
      .strict()
      .default({ perTarget: targetBudgetSchema.parse({}), job: {} }),
    /** May an agent change the code under test when a test shows a bug (default: tests only). */
    allowTouchingSource: z.boolean().default(false),
    model: modelRefSchema.optional(),
    /** Requests in flight: `auto` adapts to the server (see adaptive-concurrency.ts). */
    concurrency: z.union([z.literal('auto'), z.int().min(1).max(1024)]).default('auto'),
    /**
     * Simulator controls for every target's model calls (demos, tests, benchmarks); `{{function}}`
     * and `{{index}}` in the scenario are rendered per target (batch-prepared.ts).
     */
    sim: batchSimControlsSchema.optional(),
  })
  .strict();
export type BatchJobRequest = z.infer<typeof batchJobRequestSchema>;

/** Parses untrusted input, or throws a 4xx TernError whose code names the first problem. */
export function parseBatchJobRequest(value: unknown): BatchJobRequest {
  const parsed = batchJobRequestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String),
    message: i.message,
  }));
  const first = parsed.error.issues[0]!;
  const message = parsed.error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  const error: TernError = batchError(codeFor(first, value), `invalid batch job: ${message}`, {
    issues,
  });
  throw error;
}

function codeFor(issue: z.core.$ZodIssue, value: unknown): BatchErrorCode {
  const [field] = issue.path;
  const body = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (field === 'source') return body.source === undefined ? 'missing_source' : 'invalid_source';
  if (field === 'framework') return 'unknown_framework';
  if (field === 'promptTemplate' && issue.code === 'custom') return 'unknown_placeholder';
  if (field === 'targets' && issue.path.length === 1 && issue.code === 'custom')
    return 'no_targets';
  if (field === 'targets' && body.targets === undefined) return 'no_targets';
  return 'invalid_request';
}
