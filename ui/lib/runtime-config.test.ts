import { describe, expect, it } from 'vitest';
import { resolveRuntimeConfig } from './runtime-config';

const request = (
  host: string | null,
  forwardedHost: string | null = null,
  proto: string | null = null,
) => ({
  host,
  forwardedHost,
  forwardedProto: proto,
});

describe('resolveRuntimeConfig', () => {
  it('derives both addresses from the host the browser used, on the default ports', () => {
    expect(resolveRuntimeConfig({}, request('10.0.0.7:3000'))).toEqual({
      apiUrl: 'http://10.0.0.7:4000',
      gatewayUrl: 'http://10.0.0.7:4001',
    });
  });

  it('honours API_PORT, GATEWAY_PORT, forwarded headers and IPv6 hosts', () => {
    const env = { API_PORT: '8080', GATEWAY_PORT: '8081' };
    expect(resolveRuntimeConfig(env, request('[::1]:3000'))).toEqual({
      apiUrl: 'http://[::1]:8080',
      gatewayUrl: 'http://[::1]:8081',
    });
    expect(
      resolveRuntimeConfig({}, request('internal:3000', 'tern.example, proxy', 'https')),
    ).toEqual({ apiUrl: 'https://tern.example:4000', gatewayUrl: 'https://tern.example:4001' });
  });

  it('prefers explicit public URLs and ignores unusable ports', () => {
    const env = {
      TERN_PUBLIC_API_URL: 'https://api.tern.example/',
      TERN_PUBLIC_GATEWAY_URL: 'https://live.tern.example',
      GATEWAY_PORT: 'nope',
    };
    expect(resolveRuntimeConfig(env, request('x'))).toEqual({
      apiUrl: 'https://api.tern.example',
      gatewayUrl: 'https://live.tern.example',
    });
    expect(resolveRuntimeConfig({ API_PORT: '99999' }, request(null)).apiUrl).toBe(
      'http://localhost:4000',
    );
  });
});
