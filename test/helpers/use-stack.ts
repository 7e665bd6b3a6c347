import { afterAll, beforeAll } from 'vitest';
import { type Collector, connectCollector } from './event-collector.ts';
import { type Stack, type StackOptions, startStack } from './stack.ts';

/**
 * Starts the stack and one socket.io collector for the test file, and stops both after it. Read
 * `stack` and `collector` inside tests (they exist once `beforeAll` ran).
 */
export function useStack(options: StackOptions = {}): { stack: Stack; collector: Collector } {
  const handle = {} as { stack: Stack; collector: Collector };
  beforeAll(async () => {
    handle.stack = await startStack(options);
    handle.collector = await connectCollector(handle.stack.gatewayUrl);
  });
  afterAll(async () => {
    handle.collector?.close();
    await handle.stack?.stop();
  });
  return handle;
}
