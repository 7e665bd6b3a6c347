import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
} from '@opentelemetry/api';
import type { LlmEvent, LlmRequest, StreamFn } from '../llm/llm-types.ts';
import type { Tracing } from './tracing.ts';

/**
 * OpenTelemetry GenAI semantic conventions (gen-ai spans, 2025): the attribute names Tern sets.
 * Prompts and answers are never recorded; only sizes, models, usage and timings.
 */
export const genAi = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  /** The older name of `gen_ai.provider.name`, still read by many backends. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cachedTokens: 'gen_ai.usage.cache_read.input_tokens',
  conversationId: 'gen_ai.conversation.id',
  agentName: 'gen_ai.agent.name',
  toolName: 'gen_ai.tool.name',
  errorType: 'error.type',
} as const;

/** Tern's provider names as the conventions spell them. */
export function genAiProvider(provider: string): string {
  return provider === 'gemini' ? 'gcp.gemini' : provider;
}

/**
 * A model whose every call is a `chat <model>` span under `parent`, ended with the call's usage
 * and finish reason (or its error kind). The model itself is untouched: events pass through as
 * they come.
 */
export function tracedStream(
  tracing: Tracing,
  parent: Context,
  stream: StreamFn,
  info: { provider: string; sessionId: string },
): StreamFn {
  const provider = genAiProvider(info.provider);
  return (request: LlmRequest) => {
    const span = tracing.startSpan(
      `chat ${request.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [genAi.operation]: 'chat',
          [genAi.provider]: provider,
          [genAi.system]: provider,
          [genAi.requestModel]: request.model,
          [genAi.conversationId]: info.sessionId,
          'tern.request.messages': request.messages.length,
          'tern.request.tools': request.tools?.length ?? 0,
        },
      },
      parent,
    );
    return observed(stream(request), span);
  };
}

/**
 * The events as they come, each looked at on its way through. A hand-written iterator rather
 * than an async generator: a generator costs several promise turns per token delta, this one.
 */
function observed(events: AsyncIterable<LlmEvent>, span: Span): AsyncIterable<LlmEvent> {
  let firstOutput = true;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.end();
  };
  const look = (event: LlmEvent) => {
    switch (event.type) {
      case 'start':
        span.setAttribute(genAi.responseModel, event.model);
        break;
      case 'text_delta':
      case 'reasoning_delta':
      case 'tool_call_start':
        if (firstOutput) {
          firstOutput = false;
          span.addEvent('first_output');
        }
        break;
      case 'retry':
        span.addEvent('retry', {
          'tern.retry.attempt': event.attempt,
          'tern.retry.delay_ms': event.delayMs,
          [genAi.errorType]: event.error.kind,
        });
        break;
      case 'usage':
        span.setAttributes(usageAttributes(event.usage));
        break;
      case 'finish':
        span.setAttribute(genAi.finishReasons, [event.reason]);
        if (event.timing?.ttftMs !== undefined) {
          span.setAttribute('tern.ttft_ms', event.timing.ttftMs);
        }
        if (event.error) {
          span.setAttribute(genAi.errorType, event.error.kind);
          span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.kind });
        }
        break;
      default:
        break;
    }
  };
  // Made once per call rather than per event: a token delta costs the one `then` and nothing more.
  const seen = (result: IteratorResult<LlmEvent>) => {
    if (result.done) end();
    else look(result.value);
    return result;
  };
  const failed = (error: unknown) => {
    end();
    throw error;
  };
  return {
    [Symbol.asyncIterator]() {
      const inner = events[Symbol.asyncIterator]();
      return {
        next: () => inner.next().then(seen, failed),
        // A consumer that stops early (break, throw) ends the call and its span.
        return: (value?: unknown) => {
          end();
          return inner.return
            ? inner.return(value)
            : Promise.resolve({ done: true as const, value: undefined });
        },
      };
    },
  };
}

function usageAttributes(usage: {
  input: number;
  output: number;
  cached: number;
  costUsd: number;
}): Attributes {
  return {
    [genAi.inputTokens]: usage.input,
    [genAi.outputTokens]: usage.output,
    [genAi.cachedTokens]: usage.cached,
    'tern.cost_usd': usage.costUsd,
  };
}
