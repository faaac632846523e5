/**
 * Upstream pools with real servers: session isolation (a child per owner, ended on release),
 * shared round-robin, the child caps in total and per principal, the concurrency cap, and
 * closeAll leaving no process behind.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult, Client, RequestOptions } from '@modelcontextprotocol/client';
import { WardenError } from '../../src/errors.js';
import { ChildBudget, UpstreamPool } from '../../src/gateway/pool.js';
import { Upstream } from '../../src/gateway/upstream.js';
import { alive, memoryLogger, stdioUpstream } from '../helpers/upstreams.js';
import { within } from '../helpers/wait.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pools: UpstreamPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.closeAll()));
});

function pool(config: ReturnType<typeof stdioUpstream>, budget = new ChildBudget({ maxChildren: 16, maxChildrenPerKey: 8 })): UpstreamPool {
  const created = new UpstreamPool(new Upstream(config, { logger: memoryLogger().logger, parentEnv: process.env }), { budget });
  pools.push(created);
  return created;
}

const echo = (message: string) => (client: Client, options: RequestOptions) => client.callTool({ name: 'echo', arguments: { message } }, options) as Promise<CallToolResult>;
const textOf = (result: CallToolResult): string => (result.content[0] as { text: string }).text;

async function rejection(promise: Promise<unknown>): Promise<WardenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WardenError);
    return error as WardenError;
  }
  throw new Error('expected a rejection');
}

describe('session isolation', () => {
  it('gives two owners two children, ends one on release, and refuses another principal on an owner key', async () => {
    const everything = pool(stdioUpstream('everything', 'server-everything'));
    expect(everything.isolation).toBe('session');
    const a = await everything.acquire('session-a', 'key-1');
    const b = await everything.acquire('session-b', 'key-2');
    expect(a.pid).toBeDefined();
    expect(b.pid).toBeDefined();
    expect(a.pid).not.toBe(b.pid);
    expect(await everything.acquire('session-a', 'key-1')).toBe(a);
    const stolen = await rejection(everything.acquire('session-a', 'key-2'));
    expect(stolen.code).toBe('WARDEN_ERR_INTERNAL');
    expect(stolen.reason).toBe('owner_principal_mismatch');

    const pidA = a.pid as number;
    await everything.release('session-a');
    expect(alive(pidA)).toBe(false);
    expect(alive(-pidA)).toBe(false);
    expect(textOf(await everything.call('session-b', 'key-2', echo('b lives')))).toBe('Echo: b lives');
    expect(everything.pids()).toEqual([b.pid]);
  });

  it('server-memory keeps what one session stored (on a temporary file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-memory-'));
    try {
      const file = join(dir, 'memory.jsonl');
      writeFileSync(file, '');
      const memory = pool(stdioUpstream('memory', 'server-memory', [], { env: { MEMORY_FILE_PATH: file } }));
      const result = await memory.call('s1', 'k', (client, options) =>
        client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'warden', entityType: 'project', observations: ['guards MCP servers'] }] } }, options),
      );
      expect(result.isError).not.toBe(true);
      const graph = (await memory.call('s1', 'k', (client, options) => client.callTool({ name: 'read_graph', arguments: {} }, options))) as CallToolResult;
      expect(JSON.stringify(graph.content)).toContain('guards MCP servers');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server-filesystem on a temporary folder', () => {
  it('reads a file inside its folder and refuses one outside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-fs-'));
    try {
      writeFileSync(join(dir, 'hello.txt'), 'hello from the folder');
      const fs = pool(stdioUpstream('fs', 'server-filesystem', [dir], { isolation: 'shared' }));
      const inside = (await fs.call('s', 'k', (client, options) => client.callTool({ name: 'read_text_file', arguments: { path: join(dir, 'hello.txt') } }, options))) as CallToolResult;
      expect(textOf(inside)).toBe('hello from the folder');
      const outside = (await fs.call('s', 'k', (client, options) => client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } }, options))) as CallToolResult;
      expect(outside.isError).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shared isolation', () => {
  it('hands out poolSize connections round-robin, one child each, and ignores release', async () => {
    const shared = pool(stdioUpstream('everything', 'server-everything', [], { isolation: 'shared', poolSize: 2 }));
    const first = await shared.acquire('s1', 'k1');
    const second = await shared.acquire('s2', 'k2');
    const third = await shared.acquire('s3', 'k3');
    expect(first).not.toBe(second);
    expect(third).toBe(first);
    expect(textOf(await shared.call('s4', 'k4', echo('one')))).toBe('Echo: one');
    expect(textOf(await shared.call('s5', 'k5', echo('two')))).toBe('Echo: two');
    expect(new Set(shared.pids()).size).toBe(2);
    await shared.release('s1');
    expect(shared.pids().length).toBe(2);
  });
});

describe('caps', () => {
  it('children per principal (429) and in total (503), across pools; a release frees a slot', async () => {
    const budget = new ChildBudget({ maxChildren: 2, maxChildrenPerKey: 1 });
    const everything = pool(stdioUpstream('everything', 'server-everything'), budget);
    const memory = pool(stdioUpstream('memory', 'server-memory'), budget);
    await everything.acquire('s1', 'key-1');
    const perKey = await rejection(memory.acquire('s2', 'key-1'));
    expect(perKey.code).toBe('WARDEN_ERR_UPSTREAM_KEY_CAPACITY');
    expect(perKey.status).toBe(429);
    expect(perKey.detail).toBe('(upstream "memory")');
    await memory.acquire('s3', 'key-2');
    const total = await rejection(everything.acquire('s4', 'key-3'));
    expect(total.code).toBe('WARDEN_ERR_UPSTREAM_CAPACITY');
    expect(total.status).toBe(503);
    expect(budget.total).toBe(2);
    // The refused ones opened nothing; the admitted ones still answer.
    expect(everything.pids().length + memory.pids().length).toBe(2);
    expect(textOf(await everything.call('s1', 'key-1', echo('still')))).toBe('Echo: still');
    await everything.release('s1');
    expect(budget.countFor('key-1')).toBe(0);
    await everything.acquire('s4', 'key-3');
    expect(budget.total).toBe(2);
  });

  it('a child that fails to open frees its reservation', async () => {
    const budget = new ChildBudget({ maxChildren: 1, maxChildrenPerKey: 1 });
    const broken = pool({ ...stdioUpstream('broken', 'server-everything'), command: '/nonexistent/server' }, budget);
    expect((await rejection(broken.acquire('s1', 'k'))).code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(budget.total).toBe(0);
    expect((await rejection(broken.acquire('s1', 'k'))).code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('maxConcurrency: calls beyond it wait, beyond twice it are refused busy (503), and the waiting one runs', async () => {
    const everything = pool(stdioUpstream('everything', 'server-everything', [], { isolation: 'shared', maxConcurrency: 1 }));
    let progressed = false;
    const long = everything.call('s', 'k', (client, options) =>
      client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 10 } }, { ...options, onprogress: () => void (progressed = true) }),
    );
    await within(5000, () => progressed);
    const waiting = everything.call('s', 'k', echo('waited'));
    expect(everything.load).toEqual({ active: 1, waiting: 1 });
    const busy = await rejection(everything.call('s', 'k', echo('refused')));
    expect(busy.code).toBe('WARDEN_ERR_UPSTREAM_BUSY');
    expect(busy.status).toBe(503);
    expect(busy.detail).toBe('(upstream "everything")');
    await long;
    expect(textOf(await waiting)).toBe('Echo: waited');
    expect(everything.load).toEqual({ active: 0, waiting: 0 });
  });
});

describe('closeAll', () => {
  it('leaves no child process or process group, and refuses later calls', async () => {
    const sessions = pool(stdioUpstream('everything', 'server-everything'));
    const shared = pool(stdioUpstream('memory', 'server-memory', [], { isolation: 'shared', poolSize: 2 }));
    await sessions.acquire('a', 'k1');
    await sessions.acquire('b', 'k2');
    await shared.call('a', 'k1', (client, options) => client.listTools(undefined, options));
    await shared.call('b', 'k2', (client, options) => client.listTools(undefined, options));
    const pids = [...sessions.pids(), ...shared.pids()];
    expect(pids.length).toBe(4);
    for (const pid of pids) expect(alive(-pid)).toBe(true);
    await Promise.all([sessions.closeAll(), shared.closeAll()]);
    for (const pid of pids) {
      expect(alive(pid)).toBe(false);
      expect(alive(-pid)).toBe(false);
    }
    const refused = await rejection(sessions.acquire('c', 'k3'));
    expect(refused.code).toBe('WARDEN_ERR_SHUTTING_DOWN');
    expect(refused.reason).toBe('gateway_pool_closed'); // refused before anything was spawned
  });
});
