/**
 * The per-session client capabilities book (`mcp/session-capabilities`): a 2025 session is
 * answered from what its client declared (never from a `_meta` envelope it sends later), a
 * sessionless request from its own envelope; the book is bounded and forgets closed sessions.
 */

import { describe, expect, it } from 'vitest';
import { CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY, type ServerContext } from '@modelcontextprotocol/server';
import { SessionCapabilities } from '../../src/mcp/session-capabilities.js';

function ctx(sessionId: string | undefined, envelope?: Record<string, unknown>): ServerContext {
  return { sessionId, mcpReq: { envelope } } as unknown as ServerContext;
}

describe('SessionCapabilities', () => {
  it('answers a session from its declaration and a sessionless request from its envelope', () => {
    const book = new SessionCapabilities({ max: 10 });
    book.record('a', { elicitation: {} });
    book.record('b', {});
    const claim = { [PROTOCOL_VERSION_META_KEY]: '2026-07-28', [CLIENT_CAPABILITIES_META_KEY]: { elicitation: { form: {} } } };
    expect(book.of(ctx('a'))).toEqual({ elicitation: {} });
    // A 2025 session cannot claim more per request than it declared at initialize.
    expect(book.of(ctx('b', claim))).toEqual({});
    expect(book.of(ctx('unknown'))).toBeUndefined();
    expect(book.of(ctx(undefined, claim))).toEqual({ elicitation: { form: {} } });
    expect(book.of(ctx(undefined))).toBeUndefined();
  });

  it('is bounded (oldest first out) and forgets closed sessions', () => {
    const book = new SessionCapabilities({ max: 2 });
    book.record('a', {});
    book.record('b', {});
    book.record('c', {});
    expect(book.size).toBe(2);
    expect(book.of(ctx('a'))).toBeUndefined();
    book.forget('b');
    expect(book.of(ctx('b'))).toBeUndefined();
    expect(book.size).toBe(1);
  });
});
