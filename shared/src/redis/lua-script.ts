import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * A Lua script from `scripts/`, run by EVALSHA with a fallback to EVAL when the server has not
 * seen it (after a restart or on a fresh replica). The file name ends in its number of keys, or
 * in `-n` for a script whose keys depend on configuration (its header says how they are laid out).
 */
export class LuaScript {
  readonly name: string;
  /** `undefined` for a `-n` script. */
  readonly numberOfKeys: number | undefined;
  readonly #source: string;
  readonly #sha: string;

  constructor(fileName: string) {
    const match = /-(\d+|n)\.lua$/.exec(fileName);
    if (!match?.[1]) throw new Error(`script ${fileName} must end in -<numberOfKeys>.lua`);
    this.name = fileName;
    this.numberOfKeys = match[1] === 'n' ? undefined : Number(match[1]);
    this.#source = readFileSync(new URL(`./scripts/${fileName}`, import.meta.url), 'utf8');
    this.#sha = createHash('sha1').update(this.#source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (this.numberOfKeys !== undefined && keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.#source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

export const scripts = {
  appendInput: new LuaScript('append-input-3.lua'),
  acquireLease: new LuaScript('acquire-lease-2.lua'),
  renewLease: new LuaScript('renew-lease-1.lua'),
  releaseLease: new LuaScript('release-lease-2.lua'),
  commitHead: new LuaScript('commit-head-3.lua'),
  publishEvents: new LuaScript('publish-events-2.lua'),
  steerInput: new LuaScript('steer-input-2.lua'),
  takeSteering: new LuaScript('take-steering-1.lua'),
  requeueSteering: new LuaScript('requeue-steering-3.lua'),
  registerFork: new LuaScript('register-fork-2.lua'),
  deleteSession: new LuaScript('delete-session-12.lua'),
  finishDeletion: new LuaScript('finish-deletion-2.lua'),
  unregisterFork: new LuaScript('unregister-fork-3.lua'),
  createSession: new LuaScript('create-session-4.lua'),
};
