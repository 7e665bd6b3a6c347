import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionSummary } from '@tern/shared/protocol/api';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A provider key as it would look if one leaked: `sk-` then a long run of key characters. */
const KEY_LIKE = /sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/;

/** Set in the page by an init script: every text an assistant bubble showed while streaming. */
type StreamingProbe = { __ternStreamingTexts?: string[] };

let stack: Stack;
let context: BrowserContext;
let userDataDir: string;

async function api<T>(stackApiUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${stackApiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function listSessionIds(): Promise<string[]> {
  const page = await api<{ sessions: SessionSummary[] }>(
    stack.apiUrl,
    'GET',
    '/v1/sessions?limit=200',
  );
  return page.sessions.map((s) => s.id);
}

async function openUi(): Promise<Page> {
  const page = await context.newPage();
  // Records bubbles while they stream. Installed before any page script runs, so even a short
  // burst of deltas is seen, whatever the polling cadence of the test.
  await page.addInitScript(() => {
    const probe = window as unknown as StreamingProbe;
    probe.__ternStreamingTexts = [];
    const record = () => {
      const live = document.querySelectorAll(
        '[data-testid="assistant-message"][data-streaming="true"]',
      );
      for (const bubble of live) {
        const text = bubble.querySelector('[data-testid="message-text"]')?.textContent ?? '';
        const seen = probe.__ternStreamingTexts ?? [];
        if (seen.at(-1) !== text) seen.push(text);
      }
    };
    new MutationObserver(record).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['data-streaming'],
    });
  });
  // The link `tern up` prints: the UI keeps the token from the fragment, then drops it from the URL.
  await page.goto(`${stack.uiUrl}/#token=${stack.token}`);
  return page;
}

beforeAll(async () => {
  // The simulator streams at full speed by default; a small inter-token latency makes the deltas
  // reach the browser as separate frames, which is what the streaming assertion is about.
  stack = await startStack({ ui: true, simEnv: { SIM_ITL_MS: '30' } });
  userDataDir = await mkdtemp(join(tmpdir(), 'tern-ui-chat-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

describe('the web UI', () => {
  it('streams a reply token by token and shows the read_file call as a card', async () => {
    const { session } = await api<{ session: SessionSummary }>(
      stack.apiUrl,
      'POST',
      '/v1/sessions',
      {
        title: 'UI chat test',
        // A visible gap between tokens, so the live bubble is seen growing whatever the machine's load.
        sim: { itlMs: 40 },
        files: { 'README.md': 'Tern test workspace\nsecond line' },
      },
    );
    const page = await openUi();
    await expect.poll(() => page.url()).not.toContain('token=');
    const scripts = new Set<string>();
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.add(response.url());
    });

    await page.locator(`[data-testid="session-item"][data-session-id="${session.id}"]`).click();
    const input = page.getByTestId('message-input');
    await expect.poll(() => input.isEnabled(), { timeout: 20_000 }).toBe(true);
    await input.fill('Please read README.md');
    await page.getByTestId('send').click();

    await page
      .locator('[data-testid="user-message"]', { hasText: 'Please read README.md' })
      .waitFor({ timeout: 30_000 });
    await page
      .locator('[data-testid="tool-card"][data-tool-name="read_file"][data-status="ok"]')
      .waitFor({ timeout: 60_000 });
    const answer = page.locator('[data-testid="assistant-message"][data-streaming="false"]', {
      hasText: 'Tern test workspace',
    });
    await answer.waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="turn-status"]').waitFor({ timeout: 30_000 });

    const card = page.locator('[data-testid="tool-card"][data-tool-name="read_file"]');
    expect(await card.count()).toBe(1);
    expect(await card.textContent()).toContain('README.md');
    // The card comes before the answer that quotes its output.
    const cardFirst = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="tool-card"]');
      const bubbles = [...document.querySelectorAll('[data-testid="assistant-message"]')];
      const a = bubbles.find((b) => b.textContent?.includes('Tern test workspace'));
      return Boolean(c && a && c.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    expect(cardFirst).toBe(true);

    // Token by token: the bubble was seen live with several growing prefixes of the final text.
    const finalText = (await answer.getByTestId('message-text').textContent()) ?? '';
    const streamed = await page.evaluate(
      () => (window as unknown as StreamingProbe).__ternStreamingTexts ?? [],
    );
    const partials = streamed.filter((t) => t !== '' && t !== finalText && finalText.startsWith(t));
    expect(partials.length).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-streaming="true"]').count()).toBe(0);
    expect(await page.getByTestId('error-banner').count()).toBe(0);

    // No provider key, nor anything shaped like one, reaches the browser.
    const html = await (await fetch(stack.uiUrl)).text();
    for (const match of html.matchAll(/(?:src|href)="(\/_next\/static\/[^"]+\.js)"/g)) {
      scripts.add(new URL(match[1] ?? '', stack.uiUrl).toString());
    }
    expect(scripts.size).toBeGreaterThan(0);
    expect(html).not.toMatch(KEY_LIKE);
    for (const url of scripts) {
      const body = await (await fetch(url)).text();
      expect(body, url).not.toMatch(KEY_LIKE);
    }
    const config = await (await fetch(new URL('/api/config', stack.uiUrl))).json();
    expect(Object.keys(config).sort()).toEqual(['apiUrl', 'gatewayUrl']);
    await page.close();
  });

  it('creates a session with the New session button and lists it', async () => {
    const before = new Set(await listSessionIds());
    const page = await openUi();
    const button = page.getByTestId('new-session');
    await expect.poll(() => button.isEnabled(), { timeout: 20_000 }).toBe(true);
    await button.click();

    let created: string | undefined;
    await expect
      .poll(
        async () => {
          created = (await listSessionIds()).find((id) => !before.has(id));
          return created;
        },
        { timeout: 20_000 },
      )
      .toBeDefined();
    const item = page.locator(`[data-testid="session-item"][data-session-id="${created}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.getAttribute('aria-current')).toBe('page');
    await expect.poll(() => page.getByTestId('message-input').isEnabled()).toBe(true);
    expect(await page.getByTestId('error-banner').count()).toBe(0);
    await page.close();
  });

  it('asks for a token, refuses a wrong one, and signs in with a pasted one', async () => {
    const page = await context.newPage();
    await page.goto(stack.uiUrl);
    await page.evaluate(() => window.localStorage.clear());
    await page.reload();
    const form = page.getByTestId('sign-in');
    await form.waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('new-session').count()).toBe(0);

    // Well-formed but unknown: the API refuses it and the form comes back with a notice.
    await page.getByTestId('token-input').fill(`tern_${'x'.repeat(43)}`);
    await page.getByTestId('sign-in-submit').click();
    await page.locator('.sign-in__notice', { hasText: 'refused' }).waitFor({ timeout: 20_000 });

    await page.getByTestId('token-input').fill(stack.token);
    await page.getByTestId('sign-in-submit').click();
    const button = page.getByTestId('new-session');
    await expect.poll(() => button.isEnabled(), { timeout: 20_000 }).toBe(true);
    await page.locator('[data-testid="session-item"]').first().waitFor({ timeout: 20_000 });
    await page.close();
  });
});
