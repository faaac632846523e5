/**
 * The input-round table on its own (`gateway/input-rounds`): an upstream request is relayed only
 * while exactly one modern call is in flight on its connection, the per-principal and total caps
 * refuse it (and end the call with a tool error message), and expiry (manual clock) cancels the
 * upstream call and answers the pending request with an error. End to end: gateway-mrtr.test.ts.
 */

import { describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { Exchange, InputRounds } from '../../src/gateway/input-rounds.js';
import { manualClock } from '../helpers/clock.js';

type Handler = (request: { params?: Record<string, unknown> }, ctx: { mcpReq: { signal: AbortSignal } }) => Promise<unknown>;

/** An upstream connection as the table sees it: the handlers it registers. */
function connection(rounds: InputRounds): { client: Client; ask: (method: string, params?: Record<string, unknown>) => Promise<unknown> } {
  const handlers = new Map<string, Handler>();
  const client = { setRequestHandler: (method: string, handler: Handler) => handlers.set(method, handler) } as unknown as Client;
  rounds.install(client);
  const ask = async (method: string, params?: Record<string, unknown>) => (handlers.get(method) as Handler)({ params }, { mcpReq: { signal: new AbortController().signal } });
  return { client, ask };
}

const ELICIT = { mode: 'form', message: 'name?', requestedSchema: { type: 'object', properties: {} } };
const CAPS = { elicitation: { form: {} } };
const never = new AbortController().signal;

describe('InputRounds', () => {
  it('relays only while exactly one modern call is in flight on the connection', async () => {
    const rounds = new InputRounds({ ttlMs: 1000, now: Date.now });
    const { client, ask } = connection(rounds);
    await expect(ask('elicitation/create', ELICIT)).rejects.toThrow('0 calls in flight');
    const exchange = new Exchange('principal:a', 'a', 'up', CAPS);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = rounds.track(client, exchange, () => held);
    const second = rounds.track(client, undefined, () => held);
    await expect(ask('elicitation/create', ELICIT)).rejects.toThrow('2 calls in flight');
    release();
    await Promise.all([first, second]);
    const listing = rounds.track(client, undefined, () => ask('elicitation/create', ELICIT));
    await expect(listing).rejects.toThrow('only 2026-07-28 tools/call can');
    expect(rounds.size).toBe(0);
  });

  it('caps the waiting calls per principal, and expiry cancels the call and refuses its pending request', async () => {
    const clock = manualClock();
    const rounds = new InputRounds({ ttlMs: 1000, now: clock.now, maxPerPrincipal: 1 });
    const one = connection(rounds);
    const two = connection(rounds);
    const a = new Exchange('principal:a', 'a', 'up', CAPS);
    const b = new Exchange('principal:a', 'a', 'up', CAPS);
    const pendingA = rounds.track(one.client, a, () => one.ask('elicitation/create', ELICIT));
    expect(await a.next(never)).toMatchObject({ kind: 'asked', request: { method: 'elicitation/create' } });
    expect(rounds.size).toBe(1);
    const refusedB = rounds.track(two.client, b, () => two.ask('elicitation/create', ELICIT));
    await expect(refusedB).rejects.toThrow('too many calls are waiting');
    expect(await b.next(never)).toMatchObject({ kind: 'refused' });

    clock.advance(999);
    rounds.sweep();
    expect(rounds.size).toBe(1);
    clock.advance(1);
    rounds.sweep();
    expect(rounds.size).toBe(0);
    expect(a.controller.signal.aborted).toBe(true);
    await expect(pendingA).rejects.toThrow('the client did not answer in time');
  });
});
