/**
 * The stdio child transport: the child's environment (nothing of ours, checked with the real
 * server-everything's `get-env`), its own process group and the SIGTERM → SIGKILL close, the
 * stdout line cap, the result cap, and stderr to our log within its budget.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { Client, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { ChildTransport, childEnv, RESULT_TOO_LARGE, type ChildTransportOptions } from '../../src/gateway/child-transport.js';
import { manualTimers } from '../helpers/timers.js';
import { alive, FIXTURE_CHILD, memoryLogger, serverBin } from '../helpers/upstreams.js';
import { until, within } from '../helpers/wait.js';

const started: ChildTransport[] = [];
afterEach(async () => {
  for (const transport of started) {
    // Tests on manual timers never reach the SIGKILL deadline by themselves.
    if (transport.pid !== undefined && alive(-transport.pid)) process.kill(-transport.pid, 'SIGKILL');
  }
  await Promise.all(started.splice(0).map((transport) => transport.close()));
});

function child(options: Partial<ChildTransportOptions> & Pick<ChildTransportOptions, 'args'>): ChildTransport {
  const transport = new ChildTransport({ name: 'fixture', command: process.execPath, env: {}, parentEnv: process.env, logger: memoryLogger().logger, ...options });
  started.push(transport);
  return transport;
}

describe('childEnv', () => {
  it('keeps PATH, HOME, LANG, LC_*, TZ, TMPDIR of the parent and the configured variables, nothing else', () => {
    const parent = { PATH: '/bin', HOME: '/h', LANG: 'C', LC_ALL: 'C.UTF-8', LC_TIME: 'C', TZ: 'UTC', TMPDIR: '/t', MCP_API_KEYS: 'k', REDIS_URL: 'redis://x', USER: 'u' };
    expect(childEnv({ TOKEN: 't', PATH: '/custom' }, parent, 'linux')).toEqual({ PATH: '/custom', HOME: '/h', LANG: 'C', LC_ALL: 'C.UTF-8', LC_TIME: 'C', TZ: 'UTC', TMPDIR: '/t', TOKEN: 't' });
    expect(childEnv({}, { SystemRoot: 'C:\\Windows', MCP_API_KEYS: 'k' }, 'win32')).toEqual({ SystemRoot: 'C:\\Windows' });
  });
});

describe('ChildTransport with server-everything', () => {
  it("the child's environment holds the configured variables and PATH, and none of ours", async () => {
    const canary = `warden-canary-${process.pid}`;
    process.env['WARDEN_TEST_CANARY'] = canary;
    process.env['MCP_API_KEYS'] = 'mcp_test_key_must_not_leak';
    try {
      const transport = child({ name: 'everything', args: [serverBin('server-everything')], env: { GIVEN: 'configured-value' } });
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(transport);
      const result = await client.callTool({ name: 'get-env', arguments: {} });
      const env = JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? '{}') as Record<string, string>;
      expect(env['PATH']).toBe(process.env['PATH']);
      expect(env['GIVEN']).toBe('configured-value');
      expect(env['WARDEN_TEST_CANARY']).toBeUndefined();
      expect(env['MCP_API_KEYS']).toBeUndefined();
      expect(JSON.stringify(env)).not.toContain(canary);
      const allowed = new Set(['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'GIVEN']);
      expect(Object.keys(env).filter((key) => !allowed.has(key) && !key.startsWith('LC_'))).toEqual([]);
    } finally {
      delete process.env['WARDEN_TEST_CANARY'];
      delete process.env['MCP_API_KEYS'];
    }
  });

  it('the child leads its own process group; close() ends it and resolves once it exited', async () => {
    const transport = child({ name: 'everything', args: [serverBin('server-everything')] });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    const pid = transport.pid as number;
    expect(alive(-pid)).toBe(true); // a group whose id is the child's pid exists
    let closed = false;
    transport.onclose = () => {
      closed = true;
    };
    await transport.close();
    expect(alive(pid)).toBe(false);
    expect(alive(-pid)).toBe(false);
    expect(closed).toBe(true);
  });
});

describe('ChildTransport close', () => {
  it('SIGKILLs the whole group after the deadline when the child and its grandchild ignore SIGTERM', async () => {
    const timers = manualTimers();
    const transport = child({ args: [FIXTURE_CHILD, 'stubborn'], timers, killAfterMs: 5000 });
    let grandchild = 0;
    transport.onmessage = (message: JSONRPCMessage) => {
      grandchild = ((message as { params?: { data?: { grandchild?: number } } }).params?.data?.grandchild) ?? 0;
    };
    await transport.start();
    await within(5000, () => grandchild > 0);
    const pid = transport.pid as number;
    let done = false;
    const closing = transport.close().then(() => {
      done = true;
    });
    // SIGTERM sent, ignored by both: nothing ends before the deadline.
    await until(() => done, 300);
    expect(done).toBe(false);
    expect(alive(pid)).toBe(true);
    expect(alive(grandchild)).toBe(true);
    expect(timers.pending()).toEqual([5000]);
    timers.advance(5000);
    await closing;
    expect(alive(pid)).toBe(false);
    await within(2000, () => !alive(grandchild));
    expect(alive(-pid)).toBe(false);
  });

  it('an unexpected exit reports an error naming the upstream, then onclose', async () => {
    const transport = child({ name: 'crashy', args: [FIXTURE_CHILD, 'echo'] });
    const events: string[] = [];
    transport.onerror = (error) => events.push(`error: ${error.message}`);
    transport.onclose = () => events.push('close');
    await transport.start();
    process.kill(transport.pid as number, 'SIGKILL');
    await within(5000, () => events.includes('close'));
    expect(events).toEqual(['error: upstream "crashy" exited (SIGKILL)', 'close']);
    await expect(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toThrow('upstream "crashy": not connected');
  });

  it('a command that cannot start rejects start() and closes', async () => {
    const transport = child({ name: 'missing', command: '/nonexistent/mcp-server', args: [] });
    let closed = false;
    transport.onclose = () => {
      closed = true;
    };
    await expect(transport.start()).rejects.toThrow('upstream "missing": cannot start ENOENT');
    expect(closed).toBe(true);
  });
});

describe('ChildTransport caps', () => {
  it('a stdout line over maxLineBytes closes the child with an error', async () => {
    const transport = child({ name: 'flood', args: [FIXTURE_CHILD, 'flood', String(300_000)], maxLineBytes: 100_000 });
    const errors: string[] = [];
    let closed = false;
    transport.onerror = (error) => errors.push(error.message);
    transport.onclose = () => {
      closed = true;
    };
    await transport.start();
    const pid = transport.pid as number;
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await within(5000, () => closed);
    expect(errors[0]).toBe('upstream "flood": a message exceeds 100000 bytes');
    expect(alive(pid)).toBe(false);
  });

  it('a response over maxResultBytes becomes an error for its id; the child lives on', async () => {
    const transport = child({ name: 'big', args: [FIXTURE_CHILD, 'big', String(50_000)], maxResultBytes: 10_000 });
    const messages: JSONRPCMessage[] = [];
    transport.onmessage = (message: JSONRPCMessage) => void messages.push(message);
    await transport.start();
    await transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } });
    await within(5000, () => messages.length === 1);
    expect(messages[0]).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32000, message: 'Result too large', data: { warden: RESULT_TOO_LARGE } } });
    expect(alive(transport.pid as number)).toBe(true);
  });
});

describe('ChildTransport stderr', () => {
  it('logs stderr lines clipped, within a byte budget per minute, and counts what it dropped', async () => {
    const timers = manualTimers();
    const { logger, lines } = memoryLogger();
    const transport = child({ name: 'noisy', args: [FIXTURE_CHILD, 'stderr', '200', '3000'], logger, timers, stderrLineChars: 100, stderrBytesPerMinute: 2000 });
    await transport.start();
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    // 200 lines of 3007 chars: each clipped to 100 chars plus a marker (112 bytes), 17 fit in 2000 bytes.
    const stderrLines = (): Array<Record<string, unknown>> => lines.filter((line) => line['msg'] === 'upstream stderr');
    await within(5000, () => stderrLines().length > 0);
    await until(() => false, 300); // let the rest of the burst arrive (it is dropped)
    const logged = stderrLines();
    const bytes = logged.reduce((sum, line) => sum + Buffer.byteLength(String(line['stderr'])), 0);
    expect(bytes).toBeLessThanOrEqual(2000);
    const first = `000000 ${'e'.repeat(93)}…[clipped]`;
    expect(String(logged[0]?.['stderr'])).toBe(first);
    expect(logged.length).toBe(Math.floor(2000 / Buffer.byteLength(first)));
    expect(logged[0]).toMatchObject({ upstream: 'noisy', childPid: transport.pid });
    // A minute later the budget is back, and the drops of the last window are reported.
    timers.advance(60_000);
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await within(5000, () => lines.some((line) => line['msg'] === 'upstream stderr over its budget; lines dropped'));
    const dropped = lines.find((line) => line['msg'] === 'upstream stderr over its budget; lines dropped');
    expect(dropped?.['droppedLines']).toBe(200 - logged.length);
    await within(5000, () => stderrLines().length > logged.length);
  });
});
