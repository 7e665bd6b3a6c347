import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { ModelRegistry } from './model-registry.ts';
import { providerEndpoints } from './provider-endpoints.ts';

describe('providerEndpoints', () => {
  it('makes several URLs with one key replicas that share it', () => {
    const endpoints = providerEndpoints('openai-compatible', 'http://a/v1, http://b/v1', 'k');
    expect(endpoints.map((e) => [e.baseURL, e.apiKey])).toEqual([
      ['http://a/v1', 'k'],
      ['http://b/v1', 'k'],
    ]);
  });

  it('spreads one URL (or the default) over several keys, and pairs equal lists in order', () => {
    expect(providerEndpoints('openai', undefined, 'k1,k2').map((e) => e.apiKey)).toEqual([
      'k1',
      'k2',
    ]);
    expect(providerEndpoints('openai', undefined, 'k1')[0]).not.toHaveProperty('baseURL');
    const paired = providerEndpoints('openai', 'http://a,http://b', 'k1,k2');
    expect(paired.map((e) => `${e.baseURL} ${e.apiKey}`)).toEqual(['http://a k1', 'http://b k2']);
  });

  it('names endpoints by a stable hash that holds no part of the key', () => {
    const [first] = providerEndpoints('openai', undefined, 'sk-secret-123');
    const [again] = providerEndpoints('openai', undefined, 'sk-secret-123');
    expect(first!.id).toMatch(/^[0-9a-f]{12}$/);
    expect(first!.id).toBe(again!.id);
    expect(first!.id).not.toContain('secret');
    const [other] = providerEndpoints('openai', undefined, 'sk-secret-124');
    expect(other!.id).not.toBe(first!.id);
  });

  it('refuses lists that do not pair up', () => {
    expect(() => providerEndpoints('openai', 'http://a,http://b,http://c', 'k1,k2')).toThrow(
      /3 base URLs and 2 API keys/,
    );
  });

  it('stops a worker at start when a provider is configured with lists that do not pair', () => {
    const config = loadConfig({
      OPENAI_COMPATIBLE_BASE_URL: 'http://a/v1,http://b/v1,http://c/v1',
      OPENAI_COMPATIBLE_API_KEY: 'k1,k2',
    });
    expect(() => new ModelRegistry(config)).toThrow(/openai-compatible: 3 base URLs/);
    expect(() => loadConfig({ OPENAI_COMPATIBLE_BASE_URL: 'http://a/v1,not a url' })).toThrow(
      /OPENAI_COMPATIBLE_BASE_URL/,
    );
  });
});
