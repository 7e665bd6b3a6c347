import { type Config, ConfigError } from '../config/config.ts';
import { TernError } from '../errors/tern-error.ts';
import { anthropicAdapter } from './anthropic/anthropic-adapter.ts';
import { geminiAdapter } from './gemini/gemini-adapter.ts';
import type { StreamFn } from './llm-types.ts';
import { openAiChatAdapter } from './openai-chat/openai-chat-adapter.ts';
import { chatCompatProfiles } from './openai-chat/openai-chat-compat.ts';
import { type ProviderEndpoint, providerEndpoints } from './provider-endpoints.ts';
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
    // Key and URL lists that do not pair up stop the process at start, not at the first call.
    for (const provider of PROVIDERS) {
      try {
        this.#endpoints(provider);
      } catch (error) {
        if (!TernError.isInstance(error)) throw new ConfigError((error as Error).message);
      }
    }
  }

  streamFor(provider: string): StreamFn {
    let fn = this.#streams.get(provider);
    if (!fn) {
      fn = this.#create(provider);
      this.#streams.set(provider, fn);
    }
    return fn;
  }

  /** Each key or replica of the provider (comma-separated settings, see provider-endpoints.ts). */
  #endpoints(provider: string): ProviderEndpoint[] {
    const c = this.#config;
    switch (provider) {
      case 'openai':
        if (!c.OPENAI_API_KEY) throw missingKey('openai', 'OPENAI_API_KEY');
        return providerEndpoints(provider, c.OPENAI_BASE_URL, c.OPENAI_API_KEY);
      case 'openai-compatible':
        return providerEndpoints(
          provider,
          c.OPENAI_COMPATIBLE_BASE_URL ?? `http://127.0.0.1:${c.SIM_PORT}/v1`,
          c.OPENAI_COMPATIBLE_API_KEY ?? 'no-key',
        );
      case 'anthropic':
        if (!c.ANTHROPIC_API_KEY) throw missingKey('anthropic', 'ANTHROPIC_API_KEY');
        return providerEndpoints(provider, c.ANTHROPIC_BASE_URL, c.ANTHROPIC_API_KEY);
      case 'gemini':
        if (!c.GEMINI_API_KEY) throw missingKey('gemini', 'GEMINI_API_KEY');
        return providerEndpoints(provider, c.GEMINI_BASE_URL, c.GEMINI_API_KEY);
      default:
        throw new TernError({
          code: 'provider_unavailable',
          message: `provider ${provider} is not available in this build`,
          status: 400,
        });
    }
  }

  #create(provider: string): StreamFn {
    const c = this.#config;
    const endpoints = this.#endpoints(provider);
    const url = (e: ProviderEndpoint) => (e.baseURL ? { baseURL: e.baseURL } : {});
    switch (provider) {
      case 'openai':
      case 'openai-compatible': {
        const compat =
          provider === 'openai'
            ? chatCompatProfiles.openai
            : chatCompatProfiles[c.OPENAI_COMPATIBLE_PROFILE];
        return driveStream(
          endpoints.map((e) => ({
            id: e.id,
            adapter: openAiChatAdapter({ provider, apiKey: e.apiKey, compat, ...url(e) }),
          })),
          this.#options,
        );
      }
      case 'anthropic':
        return driveStream(
          endpoints.map((e) => ({
            id: e.id,
            adapter: anthropicAdapter({ apiKey: e.apiKey, ...url(e) }),
          })),
          this.#options,
        );
      default: // gemini: #endpoints refused every other name
        return driveStream(
          endpoints.map((e) => ({
            id: e.id,
            adapter: geminiAdapter({
              apiKey: e.apiKey,
              ...(e.baseURL ? { baseUrl: e.baseURL } : {}),
            }),
          })),
          this.#options,
        );
    }
  }
}

const PROVIDERS = ['openai', 'openai-compatible', 'anthropic', 'gemini'] as const;

const missingKey = (provider: string, variable: string) =>
  new TernError({
    code: 'provider_not_configured',
    message: `provider ${provider} needs ${variable} in the worker's environment`,
    status: 400,
  });
