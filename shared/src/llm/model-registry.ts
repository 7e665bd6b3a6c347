import type { Config } from '../config/config.ts';
import { TernError } from '../errors/tern-error.ts';
import { anthropicAdapter } from './anthropic/anthropic-adapter.ts';
import { geminiAdapter } from './gemini/gemini-adapter.ts';
import type { StreamFn } from './llm-types.ts';
import { openAiChatAdapter } from './openai-chat/openai-chat-adapter.ts';
import { chatCompatProfiles } from './openai-chat/openai-chat-compat.ts';
import { type DriverOptions, driveStream } from './stream-driver.ts';

export type ModelRef = { provider: string; model: string };

export function parseModelRef(ref: string): ModelRef {
  const at = ref.indexOf(':');
  if (at <= 0) {
    throw new TernError({ code: 'invalid_model', message: `bad model ref ${ref}`, status: 400 });
  }
  return { provider: ref.slice(0, at), model: ref.slice(at + 1) };
}

/**
 * One StreamFn per provider, built on first use and reused: SDK clients hold keep-alive agents
 * and a worker serves many sessions. Instances, not module globals, so tests can hold several.
 */
export class ModelRegistry {
  readonly #config: Config;
  readonly #options: DriverOptions;
  readonly #streams = new Map<string, StreamFn>();

  constructor(config: Config, options: DriverOptions = {}) {
    this.#config = config;
    this.#options = options;
  }

  streamFor(provider: string): StreamFn {
    let fn = this.#streams.get(provider);
    if (!fn) {
      fn = this.#create(provider);
      this.#streams.set(provider, fn);
    }
    return fn;
  }

  #create(provider: string): StreamFn {
    const c = this.#config;
    switch (provider) {
      case 'openai':
        if (!c.OPENAI_API_KEY) throw missingKey('openai', 'OPENAI_API_KEY');
        return driveStream(
          openAiChatAdapter({
            provider,
            apiKey: c.OPENAI_API_KEY,
            compat: chatCompatProfiles.openai,
            ...(c.OPENAI_BASE_URL ? { baseURL: c.OPENAI_BASE_URL } : {}),
          }),
          this.#options,
        );
      case 'openai-compatible':
        return driveStream(
          openAiChatAdapter({
            provider,
            apiKey: c.OPENAI_COMPATIBLE_API_KEY ?? 'no-key',
            baseURL: c.OPENAI_COMPATIBLE_BASE_URL ?? `http://127.0.0.1:${c.SIM_PORT}/v1`,
            compat: chatCompatProfiles[c.OPENAI_COMPATIBLE_PROFILE],
          }),
          this.#options,
        );
      case 'anthropic':
        if (!c.ANTHROPIC_API_KEY) throw missingKey('anthropic', 'ANTHROPIC_API_KEY');
        return driveStream(
          anthropicAdapter({
            apiKey: c.ANTHROPIC_API_KEY,
            ...(c.ANTHROPIC_BASE_URL ? { baseURL: c.ANTHROPIC_BASE_URL } : {}),
          }),
          this.#options,
        );
      case 'gemini':
        if (!c.GEMINI_API_KEY) throw missingKey('gemini', 'GEMINI_API_KEY');
        return driveStream(
          geminiAdapter({
            apiKey: c.GEMINI_API_KEY,
            ...(c.GEMINI_BASE_URL ? { baseUrl: c.GEMINI_BASE_URL } : {}),
          }),
          this.#options,
        );
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
