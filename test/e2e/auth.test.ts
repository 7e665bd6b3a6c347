import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, connectCollector, finishedTurns } from '../helpers/event-collector.ts';
import { type HttpResult, http } from '../helpers/http.ts';
import { runTern } from '../helpers/run-tern.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/** Low enough for a flood to hit it quickly, high enough for the other tests' users. */
const RATE = 10;
// bob alone sends about 40 requests in the tests before the flood, which may all land within a
// second on a quiet machine.
const BURST = 60;

type Name = 'alice' | 'bob' | 'root';

let stack: Stack;
const users = {} as Record<Name, { token: string; collector: Collector }>;

beforeAll(async () => {
  stack = await startStack({
    apis: 2,
    env: { API_RATE_LIMIT_PER_SEC: String(RATE), API_RATE_LIMIT_BURST: String(BURST) },
  });
  for (const [name, admin] of [
    ['alice', false],
    ['bob', false],
    ['root', true],
  ] as const) {
    const token = await stack.addUser(name, { admin });
    users[name] = { token, collector: await connectCollector(stack.gatewayUrl, token) };
  }
});

afterAll(async () => {
  for (const user of Object.values(users)) user.collector.close();
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const as = (user: keyof typeof users) => bearer(users[user].token);
const api = (path: string, n = 0) => `${stack.apiUrls[n]}${path}`;
const errorOf = (res: HttpResult) => [res.status, res.body?.error?.code];

/** `tern <args>` against the stack's Redis. */
const tern = (args: string[]) => runTern(args, { REDIS_URL: stack.redisUrl });

async function createSession(user: keyof typeof users, title: string): Promise<string> {
  const created = await http(
    'POST',
    api('/v1/sessions'),
    { title, files: { 'notes.txt': 'owned' } },
    as(user),
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.session.id;
}

async function runTurn(user: keyof typeof users, id: string, text: string): Promise<void> {
  const { collector } = users[user];
  expect(await collector.subscribe(id)).toMatchObject({ ok: true });
  const posted = await http('POST', api(`/v1/sessions/${id}/messages`), { text }, as(user));
  expect(posted.status).toBe(202);
  await collector.waitFor((all) => finishedTurns(all).includes(posted.body.turnId));
}

/** A connection attempt's outcome: connected, or the gateway's refusal message. */
function tryConnect(auth?: { token: string }): Promise<string> {
  const socket = io(stack.gatewayUrl, {
    transports: ['websocket'],
    reconnection: false,
    ...(auth ? { auth } : {}),
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve(error.message);
    });
  });
}

describe('authentication', () => {
  it('refuses /v1 without a token, with a malformed one and with an unknown one', async () => {
    for (const n of [0, 1]) {
      const none = await fetch(api('/v1/sessions', n));
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tern"');
      expect((await none.json()).error.code).toBe('unauthorized');

      for (const header of ['Bearer nope', `Bearer tern_${'x'.repeat(43)}`, 'Basic abc']) {
        const bad = await http('GET', api('/v1/sessions', n), undefined, { authorization: header });
        expect(errorOf(bad)).toEqual([401, 'unauthorized']);
        expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
      // The token is checked before anything else: no route or body is looked at.
      const post = await http(
        'POST',
        api('/v1/sessions/ses_doesnotexist00/messages', n),
        {
          text: 'hi',
        },
        { authorization: 'Bearer nope' },
      );
      expect(errorOf(post)).toEqual([401, 'unauthorized']);
    }
  });

  it('keeps health and readiness open', async () => {
    for (const url of stack.apiUrls) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    }
  });

  it('refuses gateway connections without a valid token, saying why', async () => {
    expect(await tryConnect()).toMatch(/^unauthorized: /);
    expect(await tryConnect({ token: `tern_${'x'.repeat(43)}` })).toMatch(
      /^unauthorized: .*unknown or revoked/,
    );
    expect(await tryConnect({ token: users.bob.token })).toBe('connected');
  });
});

describe("another user's session", () => {
  let id: string;
  let unknown: string;

  beforeAll(async () => {
    id = await createSession('alice', 'alice only');
    await runTurn('alice', id, 'hello from alice');
    unknown = 'ses_doesnotexist00';
  });

  /** Every route of one session, as [method, path, body]. */
  const routes = (sid: string): [string, string, unknown][] => [
    ['GET', `/v1/sessions/${sid}`, undefined],
    ['PATCH', `/v1/sessions/${sid}`, { title: 'stolen' }],
    ['POST', `/v1/sessions/${sid}/messages`, { text: 'from bob' }],
    ['POST', `/v1/sessions/${sid}/messages`, { text: 'steer', mode: 'steer' }],
    ['POST', `/v1/sessions/${sid}/cancel`, undefined],
    ['POST', `/v1/sessions/${sid}/approvals/call_1`, { approve: true }],
    ['POST', `/v1/sessions/${sid}/fork`, {}],
    ['GET', `/v1/sessions/${sid}/export`, undefined],
    ['GET', `/v1/sessions/${sid}/stats`, undefined],
    ['GET', `/v1/sessions/${sid}/tool-proposals`, undefined],
    ['GET', `/v1/sessions/${sid}/tool-proposals/tp_${'0'.repeat(32)}`, undefined],
    ['POST', `/v1/sessions/${sid}/tool-proposals/tp_${'0'.repeat(32)}/decision`, { approve: true }],
    ['DELETE', `/v1/sessions/${sid}?force=true`, undefined],
  ];

  it('answers 404 session_not_found on every route, exactly as an unknown session does', async () => {
    const theirs = routes(id);
    const none = routes(unknown);
    for (const [i, [method, path, body]] of theirs.entries()) {
      const [, unknownPath, unknownBody] = none[i] ?? [];
      const refused = await http(method, api(path, i % 2), body, as('bob'));
      const missing = await http(method, api(unknownPath ?? '', i % 2), unknownBody, as('bob'));
      expect([method, path, ...errorOf(refused)]).toEqual([method, path, 404, 'session_not_found']);
      expect(refused.body.error.message).toBe(missing.body.error.message.replace(unknown, id));
      expect(Object.keys(refused.body.error)).toEqual(Object.keys(missing.body.error));
    }
    // Nothing of it changed.
    const detail = await http('GET', api(`/v1/sessions/${id}`), undefined, as('alice'));
    expect(detail.status).toBe(200);
    expect(detail.body.session).toMatchObject({ title: 'alice only', inputs: 1, status: 'idle' });
  });

  it('cannot be subscribed to, and its events never reach the other user', async () => {
    const bob = users.bob.collector;
    const ack = await bob.subscribe(id);
    expect(ack).toEqual({
      ok: false,
      code: 'session_not_found',
      message: `session ${id} does not exist`,
    });
    expect(await bob.subscribe(unknown)).toMatchObject({
      ok: false,
      code: 'session_not_found',
    });
    await runTurn('alice', id, 'a second message');
    expect(bob.envelopes.filter((e) => e.sessionId === id)).toEqual([]);
  });

  it('is open to an admin, whose fork is the admin’s own', async () => {
    const read = await http('GET', api(`/v1/sessions/${id}`), undefined, as('root'));
    expect(read.status).toBe(200);
    expect(read.body.session.owner).toBe(
      (await http('GET', api(`/v1/sessions/${id}`), undefined, as('alice'))).body.session.owner,
    );
    expect(await users.root.collector.subscribe(id)).toMatchObject({ ok: true });
    const fork = await http('POST', api(`/v1/sessions/${id}/fork`, 1), {}, as('root'));
    expect(fork.status).toBe(201);
    expect(fork.body.session.owner).not.toBe(read.body.session.owner);
    // Alice does not see the admin's fork.
    const aliceSees = await http(
      'GET',
      api(`/v1/sessions/${fork.body.session.id}`),
      undefined,
      as('alice'),
    );
    expect(errorOf(aliceSees)).toEqual([404, 'session_not_found']);
  });

  it('keeps its owner in the store and in exports; an import belongs to the importer', async () => {
    const owner = (await http('GET', api(`/v1/sessions/${id}`), undefined, as('alice'))).body
      .session.owner as string;
    expect(owner).toMatch(/^usr_/);
    const descriptor = JSON.parse(
      readFileSync(join(stack.dataDir, 'blobs', 'sessions', id, 'session.json'), 'utf8'),
    );
    expect(descriptor.owner).toBe(owner);
    await expect
      .poll(
        () => {
          const path = join(stack.dataDir, 'blobs', 'sessions', id, 'manifest.json');
          const envelope = JSON.parse(readFileSync(path, 'utf8')) as { manifest: string };
          return JSON.parse(envelope.manifest).owner;
        },
        { timeout: 10_000 },
      )
      .toBe(owner);

    const exported = await fetch(api(`/v1/sessions/${id}/export`), { headers: as('alice') });
    const text = await exported.text();
    expect(JSON.parse(text.split('\n')[0] ?? '{}').owner).toBe(owner);
    const imported = await http('POST', api('/v1/sessions/import'), text, {
      ...as('bob'),
      'content-type': 'application/x-ndjson',
    });
    expect(imported.status).toBe(201);
    expect(imported.body.session.owner).not.toBe(owner);
    const bobs = await http(
      'GET',
      api(`/v1/sessions/${imported.body.session.id}`),
      undefined,
      as('bob'),
    );
    expect(bobs.status).toBe(200);
  });
});

describe('listing', () => {
  it('shows each user their own sessions; admins may ask for anyone’s', async () => {
    const mine = await createSession('alice', 'listed a');
    const theirs = await createSession('bob', 'listed b');
    const ids = async (user: keyof typeof users, query = '') => {
      const page = await http('GET', api(`/v1/sessions?limit=200${query}`), undefined, as(user));
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      return (page.body.sessions as { id: string }[]).map((s) => s.id);
    };
    const alice = await ids('alice');
    expect(alice).toContain(mine);
    expect(alice).not.toContain(theirs);
    const bob = await ids('bob');
    expect(bob).toContain(theirs);
    expect(bob).not.toContain(mine);
    expect(await ids('bob', '&owner=bob')).toEqual(bob);

    for (const query of ['&all=true', '&owner=alice']) {
      const refused = await http('GET', api(`/v1/sessions?${query}`), undefined, as('bob'));
      expect(errorOf(refused)).toEqual([403, 'admin_only']);
    }
    const all = await ids('root', '&all=true');
    expect(all).toEqual(expect.arrayContaining([mine, theirs]));
    expect(await ids('root', '&owner=bob')).toEqual(bob);
    expect(await ids('root')).not.toContain(mine);
    const nobody = await http('GET', api('/v1/sessions?owner=nobody'), undefined, as('root'));
    expect(errorOf(nobody)).toEqual([404, 'user_not_found']);
  });

  it('drops a deleted session from its owner’s list', async () => {
    const gone = await createSession('alice', 'to delete');
    const deleted = await http('DELETE', api(`/v1/sessions/${gone}`), undefined, as('alice'));
    expect(deleted.status).toBe(204);
    const page = await http('GET', api('/v1/sessions?limit=200'), undefined, as('alice'));
    expect(page.body.sessions.map((s: { id: string }) => s.id)).not.toContain(gone);
    expect(await stack.redis.client.keys('tern:sessions:owner:*')).not.toHaveLength(0);
    for (const key of await stack.redis.client.keys('tern:sessions:owner:*')) {
      expect(await stack.redis.client.zscore(key, gone)).toBeNull();
    }
  });
});

describe('tern users and revocation', () => {
  it('issues tokens from the CLI and revokes them at once on every api and the gateway', async () => {
    const added = await tern(['users', 'add', 'mallory']);
    expect(added.code, added.stderr).toBe(0);
    const token = added.stdout.trim();
    expect(token).toMatch(/^tern_[A-Za-z0-9_-]{43}$/);
    expect(added.stderr).toContain('cannot show it again');
    expect((await tern(['users', 'add', 'mallory'])).code).toBe(1);

    const spare = (await tern(['users', 'token', 'mallory'])).stdout.trim();
    const listed = await tern(['users', 'list']);
    expect(listed.stdout).toMatch(/mallory\s+usr_\w+\s+user/);
    expect(listed.stdout).toMatch(/root\s+usr_\w+\s+admin/);

    const own = await http('POST', api('/v1/sessions'), { title: 'm' }, bearer(token));
    expect(own.status).toBe(201);
    const live = await connectCollector(stack.gatewayUrl, token);
    const closed = new Promise<string>((resolve) => live.socket.once('disconnect', resolve));
    const told = new Promise<unknown>((resolve) => live.socket.once('unauthorized', resolve));
    expect(await live.subscribe(own.body.session.id)).toMatchObject({ ok: true });

    const revoked = await tern(['users', 'revoke', 'mallory']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('revoked 2 token(s) of mallory');
    // At once: the very next request, on either API process.
    for (const n of [0, 1]) {
      for (const t of [token, spare]) {
        const after = await http('GET', api('/v1/sessions', n), undefined, bearer(t));
        expect(errorOf(after)).toEqual([401, 'unauthorized']);
      }
    }
    // The live socket is told and closed; a new one is refused.
    expect(await told).toMatchObject({ code: 'unauthorized' });
    expect(await closed).toBe('io server disconnect');
    expect(await tryConnect({ token })).toMatch(/^unauthorized: /);
    live.close();

    // New tokens for the same user work again and see the user's sessions; revoking one of
    // them by its id leaves the other working.
    const issue = async () => {
      const issued = await tern(['users', 'token', 'mallory']);
      return { token: issued.stdout.trim(), id: /tok_[0-9a-f]{16}/.exec(issued.stderr)?.[0] };
    };
    const [kept, dropped] = [await issue(), await issue()];
    const again = await http('GET', api('/v1/sessions'), undefined, bearer(kept.token));
    expect(again.body.sessions.map((s: { id: string }) => s.id)).toEqual([own.body.session.id]);
    const one = await tern(['users', 'revoke', dropped.id ?? 'missing']);
    expect(one.stdout).toContain(`revoked token ${dropped.id} of mallory`);
    expect((await http('GET', api('/v1/sessions'), undefined, bearer(dropped.token))).status).toBe(
      401,
    );
    expect((await http('GET', api('/v1/sessions'), undefined, bearer(kept.token))).status).toBe(
      200,
    );
    expect((await tern(['users', 'revoke', 'nobody'])).code).toBe(1);
  });
});

describe('the per-user rate limit', () => {
  it('answers 429 with retry-after across both api processes, and spares other users', async () => {
    const token = await stack.addUser('flood');
    const started = Date.now();
    let allowed = 0;
    let limited: HttpResult | undefined;
    for (let i = 0; i < BURST * 3 && !limited; i++) {
      // Alternating between the two APIs: one bucket per user, not per process.
      const res = await http('GET', api('/v1/sessions?limit=1', i % 2), undefined, bearer(token));
      if (res.status === 200) allowed += 1;
      else limited = res;
    }
    const elapsedS = (Date.now() - started) / 1000;
    if (!limited) throw new Error(`no 429 after ${allowed} requests`);
    expect(errorOf(limited)).toEqual([429, 'rate_limited']);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(limited.body.error.details).toEqual({ retryAfterSeconds: retryAfter });
    // Per process buckets would have let 2 × BURST through before the first refusal.
    expect(allowed).toBeGreaterThanOrEqual(BURST);
    expect(allowed).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS) + 1);

    // Another user is not held back, on either process.
    const bob = await Promise.all(
      [0, 1].map((n) => http('GET', api('/v1/sessions?limit=1', n), undefined, as('bob'))),
    );
    expect(bob.map((r) => r.status)).toEqual([200, 200]);
  });
});
