import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

/** Log lines a logger wrote, parsed. */
function capture(logPrompts?: boolean) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const options = logPrompts === undefined ? { destination } : { destination, logPrompts };
  return { logger: createLogger('test', 'info', options), lines };
}

describe('the process logger', () => {
  it('redacts prompts by default and keeps them when the operator asks', () => {
    const quiet = capture();
    quiet.logger.info({ prompt: 'my secret plan', turnId: 't1' }, 'turn prompt');
    expect(quiet.lines[0]).toMatchObject({ prompt: '[redacted]', turnId: 't1' });

    const loud = capture(true);
    loud.logger.info({ prompt: 'my secret plan' }, 'turn prompt');
    expect(loud.lines[0]).toMatchObject({ prompt: 'my secret plan' });
  });

  it('redacts credentials whatever the prompt setting', () => {
    const { logger, lines } = capture(true);
    logger.info({
      headers: { authorization: 'Bearer sk-live' },
      config: { OPENAI_API_KEY: 'sk-live' },
    });
    expect(JSON.stringify(lines[0])).not.toContain('sk-live');
  });
});
