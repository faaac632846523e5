/**
 * The requestState codec (`mcp/request-state`): a state verifies only unaltered, unexpired, for
 * the principal, method, name and arguments it was minted for, with the current or the previous
 * shared secret; every other case throws WARDEN_ERR_INVALID_REQUEST_STATE naming the failed
 * check (for the log). Time comes from a manual clock.
 */

import { describe, expect, it } from 'vitest';
import { isWardenError } from '../../src/errors.js';
import { MAX_REQUEST_STATE_LENGTH, RequestStateCodec, canonicalJson, type RequestStateBinding } from '../../src/mcp/request-state.js';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { manualClock } from '../helpers/clock.js';

const S1 = 'state-secret-one-0123456789abcdefghijklmnop';
const S2 = 'state-secret-two-0123456789abcdefghijklmnop';
const TTL_SECONDS = 600;

const ALICE = { kind: 'api-key', id: 'fp-alice' } as const;
const BINDING: RequestStateBinding = {
  principal: ALICE,
  method: 'tools/call',
  name: 'confirm_action',
  arguments: { action: 'delete', target: 'db-1' },
};

function codec(current: string, previous?: string, clock = manualClock()): RequestStateCodec {
  return new RequestStateCodec({ secret: new SharedSecret({ current, previous }), ttlSeconds: TTL_SECONDS, now: clock.now });
}

/** The reason `verify` refused with (fails the test when it did not refuse, or threw something else). */
function refusal(verify: () => unknown): string | undefined {
  try {
    verify();
  } catch (error) {
    expect(isWardenError(error), String(error)).toBe(true);
    const refused = error as { code: string; reason?: string; publicMessage: string };
    expect(refused.code).toBe('WARDEN_ERR_INVALID_REQUEST_STATE');
    expect(refused.publicMessage).toBe('Invalid or expired requestState');
    return refused.reason;
  }
  throw new Error('verify accepted the state');
}

/** Swaps one base64url character of part `index` of a state for another. */
function alter(state: string, index: number): string {
  const parts = state.split('.');
  const part = parts[index] as string;
  const at = Math.floor(part.length / 2);
  parts[index] = part.slice(0, at) + (part[at] === 'A' ? 'B' : 'A') + part.slice(at + 1);
  return parts.join('.');
}

describe('requestState codec', () => {
  it('a state verifies for its own binding and gives back the payload; it holds no raw principal id', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm', n: 2 }, BINDING);
    expect(state).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{43}$/);
    expect(states.verify(state, BINDING)).toEqual({ step: 'confirm', n: 2 });
    // The same binding with the argument keys in another order is the same request.
    expect(states.verify(state, { ...BINDING, arguments: { target: 'db-1', action: 'delete' } })).toEqual({ step: 'confirm', n: 2 });
    const body = Buffer.from(state.split('.')[1] as string, 'base64url').toString('utf8');
    expect(body).not.toContain(ALICE.id);
    expect(JSON.parse(body)).toMatchObject({ m: 'tools/call', n: 'confirm_action', p: { step: 'confirm', n: 2 } });
    // Two mints of the same payload differ (nonce).
    expect(states.mint({ step: 'confirm', n: 2 }, BINDING)).not.toBe(state);
  });

  it('refuses a tampered body', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => states.verify(alter(state, 1), BINDING))).toBe('tag');
    // A well-formed body with another payload, under the original tag.
    const parts = state.split('.');
    const body = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    parts[1] = Buffer.from(JSON.stringify({ ...body, p: { step: 'done' } }), 'utf8').toString('base64url');
    expect(refusal(() => states.verify(parts.join('.'), BINDING))).toBe('tag');
  });

  it('refuses a tampered tag, and a tag naming an unknown key', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => states.verify(alter(state, 3), BINDING))).toBe('tag');
    expect(refusal(() => states.verify(alter(state, 2), BINDING))).toBe('tag');
  });

  it('refuses an expired state (manual clock): valid until the TTL, refused from it on', () => {
    const clock = manualClock(1_800_000_000_000);
    const states = codec(S1, undefined, clock);
    const state = states.mint({ step: 'confirm' }, BINDING);
    clock.advance(TTL_SECONDS * 1000 - 1);
    expect(states.verify(state, BINDING)).toEqual({ step: 'confirm' });
    clock.advance(1);
    expect(refusal(() => states.verify(state, BINDING))).toBe('expired');
  });

  it('refuses a foreign principal (another id, or the same id of another kind)', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => states.verify(state, { ...BINDING, principal: { kind: 'api-key', id: 'fp-mallory' } }))).toBe('principal');
    expect(refusal(() => states.verify(state, { ...BINDING, principal: { kind: 'jwt', id: ALICE.id } }))).toBe('principal');
  });

  it('refuses another tool, another method and other arguments', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => states.verify(state, { ...BINDING, name: 'echo' }))).toBe('name');
    expect(refusal(() => states.verify(state, { ...BINDING, method: 'prompts/get' }))).toBe('method');
    expect(refusal(() => states.verify(state, { ...BINDING, arguments: { action: 'delete', target: 'db-2' } }))).toBe('arguments');
    expect(refusal(() => states.verify(state, { ...BINDING, arguments: { action: 'delete', target: 'db-1', force: true } }))).toBe('arguments');
    expect(refusal(() => states.verify(state, { ...BINDING, arguments: undefined }))).toBe('arguments');
  });

  it('refuses an oversized state before computing any tag, and never mints one', () => {
    const states = codec(S1);
    const state = states.mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => states.verify(state + 'A'.repeat(MAX_REQUEST_STATE_LENGTH - state.length + 1), BINDING))).toBe('oversized');
    expect(() => states.mint({ blob: 'x'.repeat(MAX_REQUEST_STATE_LENGTH) }, BINDING)).toThrow(RangeError);
  });

  it('refuses malformed input', () => {
    const states = codec(S1);
    for (const bad of ['', 'v1', 'v1.a.b', 'v2.a.b.c', 'v1.a.b.c.d', 'not a state'] as const) expect(refusal(() => states.verify(bad, BINDING)), bad).not.toBe(undefined);
    expect(refusal(() => states.verify(42, BINDING))).toBe('malformed');
  });

  it('rotation: a state sealed with the previous secret is accepted while it is configured, refused once it is dropped', () => {
    const state = codec(S1).mint({ step: 'confirm' }, BINDING);
    expect(codec(S2, S1).verify(state, BINDING)).toEqual({ step: 'confirm' });
    expect(refusal(() => codec(S2).verify(state, BINDING))).toBe('tag');
    // And the other way round: replicas still on S1 accept what a rotated replica seals only once they know S2.
    const rotated = codec(S2, S1).mint({ step: 'confirm' }, BINDING);
    expect(refusal(() => codec(S1).verify(rotated, BINDING))).toBe('tag');
    expect(codec(S1, S2).verify(rotated, BINDING)).toEqual({ step: 'confirm' });
  });

  it("refuses a tag made with another purpose's key of the same secret (bus, record)", () => {
    const secret = new SharedSecret({ current: S1 });
    const states = new RequestStateCodec({ secret, ttlSeconds: TTL_SECONDS });
    const state = states.mint({ step: 'confirm' }, BINDING);
    const [version, body] = state.split('.') as [string, string];
    const signed = `${version}.${body}`;
    expect(secret.verify('state', signed, state.slice(signed.length + 1))).toBe(true);
    for (const purpose of ['bus', 'record'] as const) {
      expect(refusal(() => states.verify(`${signed}.${secret.sign(purpose, signed)}`, BINDING)), purpose).toBe('tag');
    }
  });

  it('canonical JSON sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
    expect(canonicalJson('x')).toBe('"x"');
  });
});
