import { describe, expect, it } from 'vitest';
import { type EndpointView, pickEndpoint } from './pick-endpoint.ts';

const view = (extra: Partial<EndpointView> = {}): EndpointView => ({
  waitMs: 0,
  coolingMs: 0,
  load: 0,
  full: false,
  ...extra,
});

describe('pickEndpoint', () => {
  it('takes equal endpoints in turn, from the round-robin start', () => {
    const views = [view(), view(), view()];
    expect(pickEndpoint(views, 0, 2000)).toEqual({ granted: true, index: 0, waitMs: 0 });
    expect(pickEndpoint(views, 1, 2000)).toEqual({ granted: true, index: 1, waitMs: 0 });
    expect(pickEndpoint(views, 5 % 3, 2000)).toEqual({ granted: true, index: 2, waitMs: 0 });
  });

  it('prefers the endpoint that can take the call soonest, then the least loaded', () => {
    const views = [view({ waitMs: 300 }), view({ load: 2 }), view({ load: 1 })];
    expect(pickEndpoint(views, 0, 2000)).toMatchObject({ index: 2, waitMs: 0 });
  });

  it('avoids an endpoint cooling down while another is free', () => {
    const views = [view({ waitMs: 900, coolingMs: 900 }), view({ waitMs: 0 })];
    expect(pickEndpoint(views, 0, 2000)).toMatchObject({ granted: true, index: 1 });
  });

  it('skips endpoints at their concurrency limit, however idle their buckets', () => {
    const views = [view({ full: true }), view({ waitMs: 700 })];
    expect(pickEndpoint(views, 0, 2000)).toEqual({ granted: true, index: 1, waitMs: 700 });
  });

  it('grants a wait up to the limit and refuses a longer one with its time and cause', () => {
    expect(pickEndpoint([view({ waitMs: 2000 })], 0, 2000)).toMatchObject({ granted: true });
    expect(pickEndpoint([view({ waitMs: 2001 })], 0, 2000)).toEqual({
      granted: false,
      reason: 'rate_limit',
      retryAfterMs: 2001,
    });
    expect(pickEndpoint([view({ waitMs: 9000, coolingMs: 9000 })], 0, 2000)).toEqual({
      granted: false,
      reason: 'cooldown',
      retryAfterMs: 9000,
    });
  });

  it('refuses with no time when every endpoint is full', () => {
    expect(pickEndpoint([view({ full: true }), view({ full: true })], 1, 2000)).toEqual({
      granted: false,
      reason: 'concurrency',
      retryAfterMs: 0,
    });
  });
});
