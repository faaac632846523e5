/**
 * Upstream connections to real servers: server-everything over stdio (crash mid-call, restart
 * with backoff, call timeout, result cap, spawn timeout, upstream errors passed through) and in
 * its `streamableHttp` and `sse` modes as a remote upstream.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError, type CallToolResult, type Client, type RequestOptions } from '@modelcontextprotocol/client';
import { ERROR_CODES, WardenError } from '../../src/errors.js';
import { RPC } from '../../src/wire-codes.js';
import { errorBody } from '../../src/http/error-reply.js';
import { BACKOFF, Upstream, type UpstreamConnection } from '../../src/gateway/upstream.js';
import { manualTimers, type ManualTimers } from '../helpers/timers.js';
import { alive, FIXTURE_CHILD, memoryLogger, startHttpEverything, stdioUpstream, remoteUpstream, type HttpEverything } from '../helpers/upstreams.js';
import { within } from '../helpers/wait.js';
import { parseGatewayConfig, type StdioUpstreamConfig } from '../../src/gateway/config.js';

const opened: UpstreamConnection[] = [];
const servers: HttpEverything[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((connection) => connection.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

function track(connection: UpstreamConnection): UpstreamConnection {
  opened.push(connection);
  return connection;
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

/** Waits until `timers` holds a timer of `ms`, then fires it. */
async function fire(timers: ManualTimers, ms: number): Promise<void> {
  await within(5000, () => timers.pending().includes(ms));
  timers.advance(ms);
}

describe('stdio upstream (server-everything)', () => {
  it('connects, lists tools and calls one', async () => {
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(stdioUpstream('everything', 'server-everything'), { logger, parentEnv: process.env }).connect());
    expect(connection.state).toBe('ready');
    expect(alive(connection.pid as number)).toBe(true);
    const { tools } = await connection.request((client, options) => client.listTools(undefined, options));
    expect(tools.map((tool) => tool.name)).toContain('get-env');
    expect(textOf(await connection.request(echo('hi')))).toBe('Echo: hi');
  });

  it('killing the child mid-call rejects the call with an error naming the upstream; the next call respawns after the backoff', async () => {
    const timers = manualTimers();
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(stdioUpstream('everything', 'server-everything'), { logger, parentEnv: process.env, timers }).connect());
    const firstPid = connection.pid as number;
    let progressed = false;
    const call = connection.request((client, options) =>
      client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 50 } }, { ...options, onprogress: () => void (progressed = true) }),
    );
    await within(5000, () => progressed); // the call is running in the child
    process.kill(firstPid, 'SIGKILL');
    const error = await rejection(call);
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.status).toBe(502);
    expect(ERROR_CODES[error.code].rpc).toBe(RPC.SERVER_ERROR);
    expect(error.detail).toBe('(upstream "everything")');
    expect(error.publicMessage).toBe('Bad Gateway: upstream unavailable');
    expect(connection.state).toBe('down');
    // The next call waits for the backoff (0.5 s), then respawns and is answered.
    const next = connection.request(echo('again'));
    await fire(timers, BACKOFF.initialMs);
    expect(textOf(await next)).toBe('Echo: again');
    expect(connection.pid).not.toBe(firstPid);
    expect(connection.opens).toBe(2);
    expect(alive(firstPid)).toBe(false);

    // A second crash soon after doubles the delay; 60 s of health resets it.
    process.kill(connection.pid as number, 'SIGKILL');
    await within(5000, () => connection.state === 'down');
    expect(connection.retryAt - timers.now()).toBe(2 * BACKOFF.initialMs);
    const third = connection.request(echo('third'));
    await fire(timers, 2 * BACKOFF.initialMs);
    expect(textOf(await third)).toBe('Echo: third');
    timers.advance(BACKOFF.healthyMs);
    process.kill(connection.pid as number, 'SIGKILL');
    await within(5000, () => connection.state === 'down');
    expect(connection.retryAt - timers.now()).toBe(BACKOFF.initialMs);
  });

  it('a call over its timeout is refused with WARDEN_ERR_UPSTREAM_TIMEOUT; the connection keeps serving', async () => {
    const timers = manualTimers();
    const { logger } = memoryLogger();
    // 30 s: the SDK's own timeout (a backstop 1 s behind ours, on the wall clock) cannot fire within this test.
    const config = stdioUpstream('everything', 'server-everything', [], { callTimeout: 30 });
    const connection = track(await new Upstream(config, { logger, parentEnv: process.env, timers }).connect());
    const pid = connection.pid;
    let progressed = false;
    const call = connection.request((client, options) =>
      client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 600 } }, { ...options, onprogress: () => void (progressed = true) }),
    );
    await within(5000, () => progressed);
    timers.advance(30_000);
    const error = await rejection(call);
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_TIMEOUT');
    expect(error.status).toBe(504);
    expect(error.detail).toBe('(upstream "everything")');
    expect(textOf(await connection.request(echo('still here')))).toBe('Echo: still here');
    expect(connection.pid).toBe(pid);
  });

  it('a result over maxResultBytes is refused; the child lives on', async () => {
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(stdioUpstream('everything', 'server-everything', [], { maxResultBytes: 16_384 }), { logger, parentEnv: process.env }).connect());
    const pid = connection.pid;
    const error = await rejection(connection.request(echo('x'.repeat(50_000))));
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE');
    expect(error.status).toBe(502);
    expect(error.detail).toBe('(upstream "everything")');
    expect(textOf(await connection.request(echo('small')))).toBe('Echo: small');
    expect(connection.pid).toBe(pid);
  });

  it("the upstream's own JSON-RPC errors pass through unchanged", async () => {
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(stdioUpstream('everything', 'server-everything'), { logger, parentEnv: process.env }).connect());
    const error = await connection.request((client, options) => client.callTool({ name: 'no-such-tool', arguments: {} }, options)).then(
      (result) => result,
      (error: unknown) => error,
    );
    // The SDK v1 server answers an unknown tool either with a JSON-RPC error or with an error result.
    if (error instanceof ProtocolError) expect(error.code).toBe(RPC.INVALID_PARAMS);
    else expect(error).toMatchObject({ isError: true });
  });

  it('a child that never finishes initialize fails to open within spawnTimeout and is terminated', async () => {
    const timers = manualTimers();
    const { logger } = memoryLogger();
    const config = parseGatewayConfig({ mcpServers: { mute: { command: process.execPath, args: [FIXTURE_CHILD, 'stderr', '0', '0'], spawnTimeout: 3 } } }, {})?.upstreams[0] as StdioUpstreamConfig;
    const connection = track(new Upstream(config, { logger, parentEnv: process.env, timers }).connection());
    const ready = connection.ready();
    await within(5000, () => connection.pid !== undefined);
    const pid = connection.pid as number;
    await fire(timers, 3000);
    const error = await rejection(ready);
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.reason).toBe('not ready within 3000 ms');
    expect(alive(pid)).toBe(false);
    expect(connection.state).toBe('down');
  });

  it('connect() to a command that cannot start rejects with WARDEN_ERR_UPSTREAM_UNAVAILABLE', async () => {
    const { logger } = memoryLogger();
    const config = parseGatewayConfig({ mcpServers: { gone: { command: '/nonexistent/server' } } }, {})?.upstreams[0] as StdioUpstreamConfig;
    const error = await rejection(new Upstream(config, { logger, parentEnv: process.env }).connect());
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(errorBody(error.code, 'mcp')).toBe(JSON.stringify({ jsonrpc: '2.0', error: { code: RPC.SERVER_ERROR, message: 'Bad Gateway: upstream unavailable' }, id: null }));
  });
});

describe('remote upstream (server-everything over HTTP)', () => {
  it('streamableHttp: connects, calls, caps results, and a server that went away gives a clear error', async () => {
    const server = await startHttpEverything('streamableHttp');
    servers.push(server);
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(remoteUpstream('remote', server.url, { maxResultBytes: 16_384 }), { logger, parentEnv: {} }).connect());
    expect(textOf(await connection.request(echo('over http')))).toBe('Echo: over http');
    const tooLarge = await rejection(connection.request(echo('y'.repeat(50_000))));
    expect(tooLarge.code).toBe('WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE');
    expect(tooLarge.detail).toBe('(upstream "remote")');
    expect(textOf(await connection.request(echo('after')))).toBe('Echo: after');
    await server.stop();
    const down = await rejection(connection.request(echo('nobody')));
    expect(down.code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(down.detail).toBe('(upstream "remote")');
  });

  it('sse (the deprecated HTTP+SSE transport): connects and calls', async () => {
    const server = await startHttpEverything('sse');
    servers.push(server);
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(remoteUpstream('legacy', server.url, { transport: 'sse' }), { logger, parentEnv: {} }).connect());
    expect(textOf(await connection.request(echo('over sse')))).toBe('Echo: over sse');
    const { tools } = await connection.request((client, options) => client.listTools(undefined, options));
    expect(tools.length).toBeGreaterThan(5);
  });

  it('sse: an event over maxResultBytes drops the stream; the call gets a clear error and the next call reconnects', async () => {
    const server = await startHttpEverything('sse');
    servers.push(server);
    const timers = manualTimers();
    const { logger } = memoryLogger();
    const connection = track(await new Upstream(remoteUpstream('legacy', server.url, { transport: 'sse', maxResultBytes: 16_384 }), { logger, parentEnv: {}, timers }).connect());
    const error = await rejection(connection.request(echo('z'.repeat(50_000))));
    // The legacy transport carries every answer on one stream: the stream is cut, not one answer.
    expect(error.code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.reason).toBe('connection lost');
    expect(error.detail).toBe('(upstream "legacy")');
    const next = connection.request(echo('reconnected'));
    await fire(timers, BACKOFF.initialMs);
    expect(textOf(await next)).toBe('Echo: reconnected');
  });
});
