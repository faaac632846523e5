/**
 * The per-tool limits hook on a bare Fastify app (inject): the modern entry `consume` (a tool
 * named by a header, before the body), no double count when the legacy preHandler meets a
 * request `consume` already counted, anonymous callers keyed by client address, and a store
 * failure handed to Fastify's error path.
 */

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolRateLimit } from '../../src/config/options.js';
import { WardenError } from '../../src/errors.js';
import { replyError, toWardenError } from '../../src/http/error-reply.js';
import { createToolLimits, type ToolLimits } from '../../src/http/hooks/tool-limits.js';
import '../../src/http/fastify-types.js';
import { SecurityEvents } from '../../src/observability/security-events.js';
import { ServerStats } from '../../src/observability/stats.js';
import { ANONYMOUS, type Principal } from '../../src/security/identity.js';
import { MemoryRateLimitStore } from '../../src/store/memory/rate-limit.js';
import type { RateLimitStore } from '../../src/store/types.js';

const KEY_A: Principal = { kind: 'api-key', id: 'k_a', name: undefined };
const KEY_B: Principal = { kind: 'api-key', id: 'k_b', name: undefined };
const LIMITS: readonly ToolRateLimit[] = [
  { tool: 'calculate', limit: 2, windowMs: 60_000 },
  { tool: 'echo', limit: 1, windowMs: 10_000 },
];

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function storesFor(limits: readonly ToolRateLimit[], now: () => number): Map<number, RateLimitStore> {
  const stores = new Map<number, RateLimitStore>();
  for (const { windowMs } of limits) if (!stores.has(windowMs)) stores.set(windowMs, new MemoryRateLimitStore({ windowMs, maxLimit: 10, now, sweep: false }));
  return stores;
}

/**
 * An app with what the server puts in front of the hook: a principal (header `x-as`: a, b or
 * anonymous), then, for requests naming a tool in `mcp-name`, the modern entry before the body.
 */
async function appWith(toolLimits: ToolLimits): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  apps.push(app);
  app.decorateRequest('principal', null);
  app.decorateRequest('failure', null);
  app.decorateRequest('mcpMethod', null);
  app.decorateRequest('mcpTool', null);
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const as = request.headers['x-as'];
    request.principal = as === 'b' ? KEY_B : as === 'anonymous' ? ANONYMOUS : KEY_A;
    done();
  });
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const name = request.headers['mcp-name'];
    if (typeof name === 'string') toolLimits.consume(request, reply, name, done);
    else done();
  });
  app.post('/mcp', { config: { surface: 'mcp' }, preHandler: toolLimits.legacy }, async () => ({ ok: true }));
  // The server's own mapping of errors to the wire (http/app).
  app.setErrorHandler((error, request, reply) => {
    const wardenError = toWardenError(error);
    replyError(request, reply, wardenError.code, wardenError.reason);
  });
  await app.ready();
  return app;
}

function eventsFor(stats: ServerStats): SecurityEvents {
  return new SecurityEvents({ stats, logger: pino({ level: 'silent' }) });
}

const call = (name: string, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('createToolLimits', () => {
  it('consume (modern entry) counts the tool named by the header and answers 429 itself; unlimited names pass', async () => {
    const stats = new ServerStats({ enabled: true, activeSessions: () => 0 });
    const toolLimits = createToolLimits({ limits: LIMITS, stores: storesFor(LIMITS, () => 0), events: eventsFor(stats) });
    const app = await appWith(toolLimits);
    const modern = (name: string, as = 'a') => app.inject({ method: 'POST', url: '/mcp', headers: { 'mcp-name': name, 'x-as': as }, payload: call(name) });
    expect((await modern('echo')).statusCode).toBe(200);
    const refused = await modern('echo');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Too Many Requests: per-tool limit for tool "echo"' }, id: null });
    expect(refused.headers).toMatchObject({ 'retry-after': '10', 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '10', 'ratelimit-policy': '1;w=10;comment="per key per tool"' });
    expect(stats.rateLimited).toBe(1);
    // Another key, another tool, a tool without a limit.
    expect((await modern('echo', 'b')).statusCode).toBe(200);
    expect((await modern('calculate')).statusCode).toBe(200);
    for (let index = 0; index < 5; index++) expect((await modern('hash_text')).statusCode).toBe(200);
  });

  it('the legacy preHandler does not count again a request consume already counted', async () => {
    const toolLimits = createToolLimits({ limits: LIMITS, stores: storesFor(LIMITS, () => 0), events: eventsFor(new ServerStats({ enabled: false, activeSessions: () => 0 })) });
    const app = await appWith(toolLimits);
    // calculate allows 2: counted once per request (header), not twice (header and body).
    for (let id = 1; id <= 2; id++) {
      expect((await app.inject({ method: 'POST', url: '/mcp', headers: { 'mcp-name': 'calculate' }, payload: call('calculate', id) })).statusCode).toBe(200);
    }
    expect((await app.inject({ method: 'POST', url: '/mcp', headers: { 'mcp-name': 'calculate' }, payload: call('calculate', 3) })).statusCode).toBe(429);
    // Without the header, the body is counted (another key, fresh quota).
    expect((await app.inject({ method: 'POST', url: '/mcp', headers: { 'x-as': 'b' }, payload: call('calculate') })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/mcp', headers: { 'x-as': 'b' }, payload: [call('calculate', 1), call('calculate', 2)] })).statusCode).toBe(429);
  });

  it('keys an anonymous caller by its client address (IPv6 by /64)', async () => {
    const toolLimits = createToolLimits({ limits: LIMITS, stores: storesFor(LIMITS, () => 0), events: eventsFor(new ServerStats({ enabled: false, activeSessions: () => 0 })) });
    const app = await appWith(toolLimits);
    const from = (remoteAddress: string) => app.inject({ method: 'POST', url: '/mcp', remoteAddress, headers: { 'x-as': 'anonymous' }, payload: call('echo') });
    expect((await from('203.0.113.1')).statusCode).toBe(200);
    expect((await from('203.0.113.1')).statusCode).toBe(429);
    expect((await from('203.0.113.2')).statusCode).toBe(200);
    expect((await from('2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await from('2001:db8:1:2::99')).statusCode).toBe(429);
    expect((await from('2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('hands a store failure to the error path (--redis-failure closed answers 503 there)', async () => {
    const failing: RateLimitStore = {
      windowMs: 60_000,
      size: 0,
      consume: () => Promise.reject(new WardenError('WARDEN_ERR_SHARED_STATE_UNAVAILABLE', { reason: 'redis' })),
      reset: () => undefined,
      close: () => undefined,
    };
    const limits = [{ tool: 'calculate', limit: 2, windowMs: 60_000 }];
    const toolLimits = createToolLimits({ limits, stores: new Map([[60_000, failing]]), events: eventsFor(new ServerStats({ enabled: false, activeSessions: () => 0 })) });
    const app = await appWith(toolLimits);
    const response = await app.inject({ method: 'POST', url: '/mcp', payload: call('calculate') });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Service Unavailable: shared state unreachable' }, id: null });
  });

  it('is a pass-through when no tool has a limit', async () => {
    const toolLimits = createToolLimits({ limits: [], stores: new Map(), events: eventsFor(new ServerStats({ enabled: false, activeSessions: () => 0 })) });
    expect(toolLimits.enabled).toBe(false);
    const app = await appWith(toolLimits);
    for (let index = 0; index < 3; index++) expect((await app.inject({ method: 'POST', url: '/mcp', headers: { 'mcp-name': 'echo' }, payload: call('echo') })).statusCode).toBe(200);
  });
});
