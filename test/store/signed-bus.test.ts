/**
 * The signed envelope of messages between replicas: what verifies is delivered, and everything
 * else (no or wrong tag, edited body, stale or replayed, wrong schema, a relayed request) is
 * refused with its reason and never throws. Time comes from an injected clock.
 */

import { describe, expect, it } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { BUS_FRESHNESS_MS, BusCodec } from '../../src/store/redis/signed-bus.js';
import type { BusMessage } from '../../src/store/types.js';

const S1 = 'bus-secret-one-0123456789abcdefghijklmnop';
const S2 = 'bus-secret-two-0123456789abcdefghijklmnop';
const CHANNEL = 'mcpw:events';

function codec(current: string, previous?: string, clock = { now: 1_700_000_000_000 }): BusCodec {
  return new BusCodec({ secret: new SharedSecret({ current, previous }), channel: CHANNEL, now: () => clock.now });
}

const closed: BusMessage = { type: 'session_closed', origin: 'replica-a', sessionId: 's-1' };

/** Re-signs an arbitrary body as a replica holding S1 would (to test the schema behind the MAC). */
function signedBody(body: unknown, clock = { now: 1_700_000_000_000 }): string {
  const sender = codec(S1, undefined, clock);
  const envelope = JSON.parse(sender.encode(closed)) as Record<string, unknown>;
  const secret = new SharedSecret({ current: S1 });
  const text = JSON.stringify(body);
  const data = `mcp-warden bus v1\n${CHANNEL}\n${envelope['ts'] as number}\n${envelope['id'] as string}\nreplica-a\n${text}`;
  return JSON.stringify({ ...envelope, body: text, tag: secret.sign('bus', data) });
}

describe('BusCodec', () => {
  it('delivers what a replica holding the secret signed', () => {
    const clock = { now: 1_700_000_000_000 };
    expect(codec(S1, undefined, clock).decode(codec(S1, undefined, clock).encode(closed))).toEqual({ ok: true, message: closed });
  });

  it('refuses unsigned, edited, mis-signed and moved messages', () => {
    const receiver = codec(S1);
    expect(receiver.decode('{"type":"keys_restricted","origin":"x","restrictions":null}')).toEqual({ ok: false, reason: 'malformed' });
    expect(receiver.decode('not json')).toEqual({ ok: false, reason: 'malformed' });
    const envelope = JSON.parse(codec(S1).encode(closed)) as Record<string, unknown>;
    const edited = JSON.stringify({ ...envelope, body: JSON.stringify({ ...closed, sessionId: 's-2' }) });
    expect(receiver.decode(edited)).toEqual({ ok: false, reason: 'bad_mac' });
    expect(receiver.decode(JSON.stringify({ ...envelope, origin: 'replica-b' }))).toEqual({ ok: false, reason: 'bad_mac' });
    expect(codec(S2).decode(codec(S1).encode(closed))).toEqual({ ok: false, reason: 'bad_mac' });
    const otherChannel = new BusCodec({ secret: new SharedSecret({ current: S1 }), channel: 'other:events', now: () => 1_700_000_000_000 });
    expect(receiver.decode(otherChannel.encode(closed))).toEqual({ ok: false, reason: 'bad_mac' });
  });

  it('refuses messages outside the freshness window and replays within it', () => {
    const clock = { now: 1_700_000_000_000 };
    const sender = codec(S1, undefined, { ...clock });
    const receiver = codec(S1, undefined, clock);
    const text = sender.encode(closed);
    expect(receiver.decode(text).ok).toBe(true);
    expect(receiver.decode(text)).toEqual({ ok: false, reason: 'replay' });
    clock.now += BUS_FRESHNESS_MS + 1;
    expect(receiver.decode(sender.encode(closed))).toEqual({ ok: false, reason: 'stale' });
    clock.now -= 2 * BUS_FRESHNESS_MS + 2;
    expect(receiver.decode(sender.encode(closed))).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses validly signed messages that fail the strict schema: null restrictions, a malformed expiry, extra fields', () => {
    const receiver = codec(S1);
    expect(receiver.decode(signedBody({ type: 'keys_restricted', origin: 'replica-a', restrictions: null }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'keys_restricted', origin: 'replica-a', restrictions: [{ id: 'k_1', disabled: false, expiresAt: 'x' }] }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'keys_restricted', origin: 'replica-a', restrictions: [{ id: 'k_1', disabled: 'no' }] }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'ban', origin: 'replica-a', client: '203.0.113.1', until: 1, extra: true }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'nope', origin: 'replica-a' }))).toEqual({ ok: false, reason: 'schema' });
    // The body's origin must be the envelope's.
    expect(receiver.decode(signedBody({ type: 'session_closed', origin: 'replica-z', sessionId: 's' }))).toEqual({ ok: false, reason: 'schema' });
  });

  it('refuses a relayed server-to-client request, delivers a relayed notification or response', () => {
    const clock = { now: 1_700_000_000_000 };
    const sender = codec(S1, undefined, clock);
    const receiver = codec(S1, undefined, clock);
    const request = { jsonrpc: '2.0', id: 1, method: 'elicitation/create', params: { message: 'hi', requestedSchema: { type: 'object' } } };
    expect(receiver.decode(sender.encode({ type: 'stream', origin: 'replica-a', sessionId: 's', message: request }))).toEqual({ ok: false, reason: 'request' });
    const notification = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
    expect(receiver.decode(sender.encode({ type: 'stream', origin: 'replica-a', sessionId: 's', message: notification })).ok).toBe(true);
    const response = { jsonrpc: '2.0', id: 3, result: {} };
    expect(receiver.decode(sender.encode({ type: 'stream', origin: 'replica-a', sessionId: 's', message: response })).ok).toBe(true);
  });

  it('delivers a signed change; refuses one with an unknown kind, an extra field, a missing or over-long URI', () => {
    const clock = { now: 1_700_000_000_000 };
    const sender = codec(S1, undefined, clock);
    const receiver = codec(S1, undefined, clock);
    const change: BusMessage = { type: 'change', origin: 'replica-a', change: { kind: 'resource_updated', uri: 'test://a' } };
    expect(receiver.decode(sender.encode(change))).toEqual({ ok: true, message: change });
    expect(receiver.decode(signedBody({ type: 'change', origin: 'replica-a', change: { kind: 'everything_changed' } }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'change', origin: 'replica-a', change: { kind: 'tools_list_changed', uri: 'x' } }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'change', origin: 'replica-a', change: { kind: 'resource_updated' } }))).toEqual({ ok: false, reason: 'schema' });
    expect(receiver.decode(signedBody({ type: 'change', origin: 'replica-a', change: { kind: 'resource_updated', uri: 'x'.repeat(2049) } }))).toEqual({ ok: false, reason: 'schema' });
  });

  it('accepts the previous secret during a rotation and signs with the current one', () => {
    const clock = { now: 1_700_000_000_000 };
    const rotated = codec(S2, S1, clock);
    expect(rotated.decode(codec(S1, undefined, clock).encode(closed)).ok).toBe(true);
    const signedByRotated = rotated.encode(closed);
    expect(codec(S2, undefined, clock).decode(signedByRotated).ok).toBe(true);
    expect(codec(S1, undefined, clock).decode(rotated.encode(closed))).toEqual({ ok: false, reason: 'bad_mac' });
    expect(codec(S1, S2, clock).decode(rotated.encode(closed)).ok).toBe(true);
  });
});

describe('a flood of genuine relayed messages', () => {
  it('past the replay memory drops stream relays but still delivers revocations, bans and closes', () => {
    const clock = { now: 1_700_000_000_000 };
    const secret = new SharedSecret({ current: S1 });
    const sender = new BusCodec({ secret, channel: CHANNEL, now: () => clock.now });
    const receiver = new BusCodec({ secret, channel: CHANNEL, now: () => clock.now, maxRememberedIds: 1_000 });
    const notification: BusMessage = { type: 'stream', origin: 'replica-a', sessionId: 's-1', message: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } } };
    const first = sender.encode(notification);
    expect(receiver.decode(first).ok).toBe(true);
    for (let i = 1; i < 1_000; i++) expect(receiver.decode(sender.encode(notification)).ok).toBe(true);
    // The memory is full: one more relay is dropped, and so is a change (a replay would announce it twice)...
    expect(receiver.decode(sender.encode(notification))).toEqual({ ok: false, reason: 'overload' });
    expect(receiver.decode(sender.encode({ type: 'change', origin: 'replica-a', change: { kind: 'tools_list_changed' } }))).toEqual({ ok: false, reason: 'overload' });
    // ...but what ends a credential, a session or a client's access still arrives (each is
    // idempotent, so delivering it without remembering its id cannot loosen anything).
    const revoke: BusMessage = { type: 'keys_restricted', origin: 'replica-a', restrictions: [{ id: 'k1', disabled: true }] };
    const ban: BusMessage = { type: 'ban', origin: 'replica-a', client: '203.0.113.7', until: clock.now + 60_000 };
    for (const message of [revoke, ban, closed]) expect(receiver.decode(sender.encode(message as BusMessage))).toEqual({ ok: true, message });
    // A replay of a remembered relay is still refused, and a forged revocation still is.
    expect(receiver.decode(first)).toEqual({ ok: false, reason: 'replay' });
    const forger = new BusCodec({ secret: new SharedSecret({ current: S2 }), channel: CHANNEL, now: () => clock.now });
    expect(receiver.decode(forger.encode(revoke))).toEqual({ ok: false, reason: 'bad_mac' });
  });
});
