import type { LlmRequest, ToolSpec } from '@tern/shared/llm/llm-types';
import type { FinishReason, ToolCall, Usage } from '@tern/shared/session/log-entry';
import type { LlmMessage, ToolResult } from './agent-types.ts';

export type HookPoint = 'before_model' | 'after_model' | 'before_tool' | 'after_tool';

/** What every hook sees. Read-only: a hook changes the turn only through its decision. */
export type HookContext = {
  readonly sessionId: string;
  readonly turnId: string;
  /** The model call this belongs to, counted from 1 within the turn. */
  readonly step: number;
  /** Aborted when the hook's time budget ends or the turn is cancelled. */
  readonly signal: AbortSignal;
};

export type BeforeModelContext = HookContext & {
  readonly request: {
    readonly model: string;
    readonly messages: readonly LlmMessage[];
    readonly tools: readonly ToolSpec[];
  };
};

export type AfterModelContext = HookContext & {
  readonly answer: {
    readonly text: string;
    readonly toolCalls: readonly ToolCall[];
    readonly usage: Readonly<Usage>;
    readonly finishReason: FinishReason;
  };
};

export type BeforeToolContext = HookContext & {
  readonly call: { readonly id: string; readonly name: string };
  readonly args: Readonly<Record<string, unknown>>;
};

export type AfterToolContext = BeforeToolContext & { readonly result: Readonly<ToolResult> };

export type Allow = { action: 'allow' };
export type Deny = { action: 'deny'; reason: string };
/** Text for the model: appended to the system text (model points) or to the tool's result. */
export type AddContext = { action: 'add_context'; text: string };

/** Changes to a model request; `system` is extra system text, appended to the prompt's. */
export type ModelRequestPatch = Partial<
  Pick<LlmRequest, 'maxTokens' | 'temperature' | 'reasoningEffort' | 'toolChoice' | 'stop'>
> & { system?: string };

export type BeforeModelDecision =
  | Allow
  | Deny
  | AddContext
  | { action: 'modify'; request: ModelRequestPatch };
/** `add_context` after a model call is given to the next model call of the turn. */
export type AfterModelDecision = Allow | Deny | AddContext;
/** `args` is a patch: the keys given replace the call's, a key set to `undefined` is removed. */
export type BeforeToolDecision =
  | Allow
  | Deny
  | AddContext
  | { action: 'modify'; args: Record<string, unknown> };
/** `deny` withholds the result from the model; `modify` replaces it. */
export type AfterToolDecision =
  | Allow
  | Deny
  | AddContext
  | { action: 'modify'; result: ToolResult };

export type HookDecision =
  | BeforeModelDecision
  | AfterModelDecision
  | BeforeToolDecision
  | AfterToolDecision;

/** A handler may answer synchronously; no answer means allow. */
export type HookHandler<C, D> = (context: C) => D | undefined | Promise<D | undefined>;

/**
 * A hook: a named set of handlers for some of the four points. All hooks of one point run
 * concurrently, so a hook must not depend on another's decision; their decisions are combined
 * (any deny wins; on conflicting modifications the hook earlier in the list wins).
 */
export type Hook = {
  name: string;
  /** Per-call time budget. Default 1,000 ms. */
  timeoutMs?: number;
  /** What an overrun or a throw counts as: skipped (allow) or deny. Default `skip`. */
  onTimeout?: 'skip' | 'deny';
  beforeModel?: HookHandler<BeforeModelContext, BeforeModelDecision>;
  afterModel?: HookHandler<AfterModelContext, AfterModelDecision>;
  beforeTool?: HookHandler<BeforeToolContext, BeforeToolDecision>;
  afterTool?: HookHandler<AfterToolContext, AfterToolDecision>;
};
