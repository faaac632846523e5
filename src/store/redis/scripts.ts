/**
 * @module store/redis/scripts
 * Runs one of our fixed Lua scripts atomically in Redis through ioredis `defineCommand`: EVALSHA,
 * with a single EVAL fallback when Redis has not cached the script yet, so the script's text is
 * not sent on every call (the rate limiter and the heartbeat define their commands the same way).
 * Script text is always a constant of ours; only KEYS and ARGV vary.
 */

import type { Redis } from 'ioredis';

/** A Lua script and how many of its arguments are keys. */
export interface LuaScript {
  /** The command name it is defined under on each client (prefixed, so it never shadows a Redis method). */
  readonly name: `warden${string}`;
  readonly keys: number;
  readonly lua: string;
}

type ScriptCommand = (...args: Array<string | number>) => Promise<unknown>;

/**
 * Runs `script` with its keys then its arguments, defining it on `client` at first use.
 *
 * @example
 * const TAKE = { name: 'wardenTake', keys: 1, lua: "return redis.call('GETDEL', KEYS[1])" } as const;
 * const value = (await runScript(client, TAKE, key)) as string | null;
 */
export function runScript(client: Redis, script: LuaScript, ...args: Array<string | number>): Promise<unknown> {
  const commands = client as unknown as Record<string, ScriptCommand | undefined>;
  if (commands[script.name] === undefined) client.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
  return (commands[script.name] as ScriptCommand).call(client, ...args);
}
