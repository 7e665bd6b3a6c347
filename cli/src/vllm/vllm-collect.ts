import type { LlmEvent, LlmRequest, StreamFn } from '@tern/shared/llm/llm-types';

/** One check of `tern vllm check` and the pieces every check uses. */

export type CheckStatus = 'ok' | 'fail' | 'skipped';

export type CheckResult = {
  name: 'models' | 'completion' | 'tool_calling' | 'metrics';
  status: CheckStatus;
  /** What was seen, one line. */
  summary: string;
  /** For a failure: what to change on the server. */
  diagnosis?: string;
};

type Collected = {
  text: string;
  reasoning: string;
  calls: Array<Extract<LlmEvent, { type: 'tool_call_end' }>>;
  finish: Extract<LlmEvent, { type: 'finish' }> | undefined;
  usage: boolean;
};

export async function collect(stream: StreamFn, request: LlmRequest): Promise<Collected> {
  const out: Collected = { text: '', reasoning: '', calls: [], finish: undefined, usage: false };
  for await (const event of stream(request)) {
    if (event.type === 'text_delta') out.text += event.text;
    else if (event.type === 'reasoning_delta') out.reasoning += event.text;
    else if (event.type === 'tool_call_end') out.calls.push(event);
    else if (event.type === 'usage') out.usage = true;
    else if (event.type === 'finish') out.finish = event;
  }
  return out;
}

export type CallBase = Pick<LlmRequest, 'model' | 'timeoutMs'>;

export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
