import type { Config } from '../config/config.ts';
import { TernError } from '../errors/tern-error.ts';
import type { StreamFn } from './llm-types.ts';
import { openAiChatStream } from './openai-chat/openai-chat-stream.ts';

export type ModelRef = { provider: string; model: string };

export function parseModelRef(ref: string): ModelRef {
  const at = ref.indexOf(':');
  if (at <= 0)
    throw new TernError({ code: 'invalid_model', message: `bad model ref ${ref}`, status: 400 });
  return { provider: ref.slice(0, at), model: ref.slice(at + 1) };
}

/**
 * Builds one client per provider on first use and reuses it: SDK clients hold keep-alive agents,
 * and a worker serves many sessions. Instances, not module globals, so tests can hold several.
 */
export class ModelRegistry {
  readonly #config: Config;
  readonly #clients = new Map<string, StreamFn>();

  constructor(config: Config) {
    this.#config = config;
  }

  streamFor(provider: string): StreamFn {
    let fn = this.#clients.get(provider);
    if (!fn) {
      fn = this.#create(provider);
      this.#clients.set(provider, fn);
    }
    return fn;
  }

  #create(provider: string): StreamFn {
    const c = this.#config;
    switch (provider) {
      case 'openai':
        if (!c.OPENAI_API_KEY) throw missingKey('openai', 'OPENAI_API_KEY');
        return openAiChatStream({
          apiKey: c.OPENAI_API_KEY,
          maxTokensField: 'max_completion_tokens',
          ...(c.OPENAI_BASE_URL ? { baseURL: c.OPENAI_BASE_URL } : {}),
        });
      case 'openai-compatible':
        return openAiChatStream({
          apiKey: c.OPENAI_COMPATIBLE_API_KEY ?? 'no-key',
          baseURL: c.OPENAI_COMPATIBLE_BASE_URL ?? `http://127.0.0.1:${c.SIM_PORT}/v1`,
        });
      default:
        throw new TernError({
          code: 'provider_unavailable',
          message: `provider ${provider} is not available in this build`,
          status: 400,
        });
    }
  }
}

const missingKey = (provider: string, variable: string) =>
  new TernError({
    code: 'provider_not_configured',
    message: `provider ${provider} needs ${variable} in the worker's environment`,
    status: 400,
  });
