/**
 * @module mcp/sessions
 * The live MCP sessions of this process: their transport channel, their own protocol engine
 * (unless the engine is shared by all sessions) and their owner.
 * Bounded in number; idle sessions (no request for `ttlMs` and nothing in flight) are closed.
 */

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Principal } from '../security/api-keys.js';
import type { ProtocolVersion } from './protocol-versions.js';
import type { SessionChannel } from './transport/session-channel.js';

/** What the transport needs of an SDK `McpServer` or `Server`. */
export interface ServerLike {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Passed to the server factory for each new session (or once, in stateless mode). */
export interface SessionContext {
  /** Undefined in stateless mode. */
  readonly sessionId: string | undefined;
  /** Who opened the session (in stateless mode: the anonymous principal). */
  readonly principal: Principal;
}

/** Builds the protocol engine for one session. */
export type ServerFactory = (context: SessionContext) => ServerLike | Promise<ServerLike>;

export interface LiveSession {
  readonly id: string;
  /** The principal that created the session; nobody else may use it. */
  readonly principalId: string;
  readonly protocolVersion: ProtocolVersion;
  readonly createdAt: number;
  lastSeen: number;
  readonly channel: SessionChannel;
  /** The session's own engine, closed with it; undefined when one engine serves every session. */
  readonly server: ServerLike | undefined;
}

export interface SessionRegistryOptions {
  readonly max: number;
  /** Sessions one principal may hold at once (default: no cap beyond `max`). */
  readonly maxPerPrincipal?: number;
  readonly ttlMs: number;
  readonly now?: () => number;
  /** Called after a session was closed (for whatever reason). */
  readonly onClosed?: (session: LiveSession, reason: 'deleted' | 'expired' | 'shutdown') => void;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, LiveSession>();
  readonly #max: number;
  readonly #maxPerPrincipal: number;
  /** Live sessions and reservations per principal. */
  readonly #perPrincipal = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #onClosed: SessionRegistryOptions['onClosed'];
  #reserved = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SessionRegistryOptions) {
    this.#max = options.max;
    this.#maxPerPrincipal = options.maxPerPrincipal ?? Number.POSITIVE_INFINITY;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#onClosed = options.onClosed;
    this.#timer = setInterval(() => void this.sweep(), Math.min(60_000, Math.max(1_000, Math.floor(options.ttlMs / 4))));
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Claims room for a session of `principalId` being created; false when the registry, or the
   * principal's share of it, is full.
   */
  reserve(principalId: string): boolean {
    if (this.#sessions.size + this.#reserved >= this.#max) return false;
    const held = this.#perPrincipal.get(principalId) ?? 0;
    if (held >= this.#maxPerPrincipal) return false;
    this.#perPrincipal.set(principalId, held + 1);
    this.#reserved++;
    return true;
  }

  /** Gives back a reservation: `added` true when the session was added (it keeps its share). */
  release(principalId: string, added: boolean): void {
    if (this.#reserved > 0) this.#reserved--;
    if (!added) this.#forgetOne(principalId);
  }

  add(session: LiveSession): void {
    this.#sessions.set(session.id, session);
  }


  /** The session without touching it. */
  peek(id: string): LiveSession | undefined {
    return this.#sessions.get(id);
  }

  /** Marks a session used now (call only after checking the caller owns it). */
  touch(session: LiveSession): void {
    session.lastSeen = this.#now();
  }

  async close(id: string, reason: 'deleted' | 'expired' | 'shutdown' = 'deleted'): Promise<void> {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    this.#sessions.delete(id);
    this.#forgetOne(session.principalId);
    try {
      await session.server?.close();
    } finally {
      session.channel.close();
      this.#onClosed?.(session, reason);
    }
  }

  #forgetOne(principalId: string): void {
    const held = this.#perPrincipal.get(principalId) ?? 0;
    if (held <= 1) this.#perPrincipal.delete(principalId);
    else this.#perPrincipal.set(principalId, held - 1);
  }

  /** Closes sessions idle for longer than the TTL. */
  async sweep(): Promise<void> {
    const cutoff = this.#now() - this.#ttlMs;
    const expired = [...this.#sessions.values()].filter((session) => session.lastSeen < cutoff && !session.channel.busy);
    await Promise.allSettled(expired.map((session) => this.close(session.id, 'expired')));
  }

  /** Ends every session's GET stream (shutdown: idle listeners must not hold the server open). */
  endStreams(): void {
    for (const session of this.#sessions.values()) session.channel.endStandalone();
  }

  async closeAll(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#sessions.keys()].map((id) => this.close(id, 'shutdown')));
  }
}
