/**
 * @module mcp/sessions
 * The live MCP sessions of this process: their transport channel, their own protocol engine
 * (unless the engine is shared by all sessions) and their owner.
 * Bounded in number; idle sessions, sessions whose credential ended, and GET streams past
 * their lifetime are closed by a periodic check against the (injectable) clock.
 */

import type { Transport } from '@modelcontextprotocol/server';
import type { Principal } from '../security/identity.js';
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
  /**
   * Which protocol era the product will serve: `legacy` (2025 revisions: `initialize`, sessions)
   * or `modern` (2026-07-28: one long-lived engine for every modern request, see README
   * "Protocol eras"). Absent from callers older than issue 12 (treat as legacy).
   */
  readonly era?: 'legacy' | 'modern';
}

/** Builds the protocol engine for one session. */
export type ServerFactory = (context: SessionContext) => ServerLike | Promise<ServerLike>;

export interface LiveSession {
  readonly id: string;
  /** The principal that created the session; nobody else may use it. */
  readonly principalId: string;
  /** How the owner authenticates (API key, JWT, anonymous): how its credential is re-checked. */
  readonly principalKind: Principal['kind'];
  readonly protocolVersion: ProtocolVersion;
  readonly createdAt: number;
  lastSeen: number;
  /**
   * True once the owner did something after initialize (a request other than initialize, or a
   * GET stream): until then the short `unusedTtlMs` applies.
   */
  used: boolean;
  /** When the credential last presented by the owner stops being accepted (JWT `exp`); undefined: no fixed end. */
  credentialExpiresAt: number | undefined;
  readonly channel: SessionChannel;
  /** The path that opened it (`/mcp`, or a gateway upstream's `/mcp/<name>`); undefined: `/mcp`. */
  readonly endpoint?: string | undefined;
  /** The session's own engine, closed with it; undefined when one engine serves every session. */
  readonly server: ServerLike | undefined;
}

/** Why a session was closed. */
export type CloseReason = 'deleted' | 'expired' | 'shutdown' | 'revoked' | 'evicted';

export interface SessionRegistryOptions {
  readonly max: number;
  /** Sessions one principal may hold at once (default: no cap beyond `max`). */
  readonly maxPerPrincipal?: number;
  /** Idle time after which a used session is closed (a GET stream does not count as use). */
  readonly ttlMs: number;
  /** Idle time after which a session that did nothing after initialize is closed (default `ttlMs`). */
  readonly unusedTtlMs?: number;
  /** A GET stream that carried no message for this long is ended (default: never). */
  readonly streamIdleMs?: number;
  /** A GET stream is ended this long after it was opened (default: never). */
  readonly streamMaxMs?: number;
  /**
   * Whether the credential the session's owner used is still accepted at `now` (not revoked,
   * removed, expired or past its `exp`). Sessions whose credential ended are closed.
   */
  readonly credentialValid?: (session: LiveSession, now: number) => boolean;
  /** How often expiry, TTL and stream lifetimes are checked, ms (default 500: a credential's end closes its sessions within a second). */
  readonly checkEveryMs?: number;
  readonly now?: () => number;
  /** Called after a session was closed (for whatever reason). */
  readonly onClosed?: (session: LiveSession, reason: CloseReason) => void;
  /** Called on every check and revalidation (stateless requests in flight are checked there). */
  readonly onCheck?: (now: number) => void;
}

/**
 * Bounded in number (in total and per principal) on this replica. When a cap is reached, the
 * caller's own least recently used idle session (no request in flight, no GET stream attached)
 * is closed to make room before anyone is refused: clients that never send DELETE (probes,
 * test suites) cannot lock their own key out, and a busy session is never evicted.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, LiveSession>();
  /** Live sessions of each principal (for eviction and credential ends). */
  readonly #owned = new Map<string, Set<LiveSession>>();
  readonly #max: number;
  readonly #maxPerPrincipal: number;
  /** Live sessions and reservations per principal. */
  readonly #perPrincipal = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #unusedTtlMs: number;
  readonly #streamIdleMs: number;
  readonly #streamMaxMs: number;
  readonly #credentialValid: SessionRegistryOptions['credentialValid'];
  readonly #now: () => number;
  readonly #onClosed: SessionRegistryOptions['onClosed'];
  readonly #onCheck: SessionRegistryOptions['onCheck'];
  #reserved = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SessionRegistryOptions) {
    this.#max = options.max;
    this.#maxPerPrincipal = options.maxPerPrincipal ?? Number.POSITIVE_INFINITY;
    this.#ttlMs = options.ttlMs;
    this.#unusedTtlMs = Math.min(options.unusedTtlMs ?? options.ttlMs, options.ttlMs);
    this.#streamIdleMs = options.streamIdleMs ?? Number.POSITIVE_INFINITY;
    this.#streamMaxMs = options.streamMaxMs ?? Number.POSITIVE_INFINITY;
    this.#credentialValid = options.credentialValid;
    this.#now = options.now ?? Date.now;
    this.#onClosed = options.onClosed;
    this.#onCheck = options.onCheck;
    // One cheap pass over the sessions per tick; reading the clock each time (rather than
    // arming a timer per deadline) lets an injected clock drive expiry in tests.
    this.#timer = setInterval(() => void this.sweep(), options.checkEveryMs ?? 500);
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The registry's clock. */
  now(): number {
    return this.#now();
  }

  /**
   * Claims room for a session of `principalId` being created; false when the registry, or the
   * principal's share of it, is full and none of the principal's own sessions is idle.
   */
  reserve(principalId: string): boolean {
    const held = this.#perPrincipal.get(principalId) ?? 0;
    const full = this.#sessions.size + this.#reserved >= this.#max || held >= this.#maxPerPrincipal;
    if (full && !this.#evictIdle(principalId)) return false;
    this.#perPrincipal.set(principalId, (this.#perPrincipal.get(principalId) ?? 0) + 1);
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
    let owned = this.#owned.get(session.principalId);
    if (owned === undefined) this.#owned.set(session.principalId, (owned = new Set()));
    owned.add(session);
  }

  /** The session without touching it. */
  peek(id: string): LiveSession | undefined {
    return this.#sessions.get(id);
  }

  /** Marks a session used now (call only after checking the caller owns it). */
  touch(session: LiveSession): void {
    session.lastSeen = this.#now();
  }

  async close(id: string, reason: CloseReason = 'deleted'): Promise<void> {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    // Everything up to the first await runs at once: a caller may count on the room being free.
    this.#sessions.delete(id);
    const owned = this.#owned.get(session.principalId);
    owned?.delete(session);
    if (owned?.size === 0) this.#owned.delete(session.principalId);
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

  /** Closes the principal's least recently used idle session; false when it has none. */
  #evictIdle(principalId: string): boolean {
    let oldest: LiveSession | undefined;
    for (const session of this.#owned.get(principalId) ?? []) {
      if (session.channel.busy) continue;
      if (oldest === undefined || session.lastSeen < oldest.lastSeen) oldest = session;
    }
    if (oldest === undefined) return false;
    void this.close(oldest.id, 'evicted');
    return true;
  }

  /**
   * Closes sessions whose credential ended (revoked, removed, expired, past `exp`), sessions
   * idle past their TTL, and ends GET streams past their idle or absolute lifetime. Only a
   * request in flight holds a session open past its TTL; an open GET stream does not.
   */
  async sweep(): Promise<void> {
    const now = this.#now();
    const closing: Array<Promise<void>> = [];
    for (const session of [...this.#sessions.values()]) {
      if (this.#credentialValid !== undefined && !this.#credentialValid(session, now)) {
        closing.push(this.close(session.id, 'revoked'));
        continue;
      }
      const ttl = session.used ? this.#ttlMs : this.#unusedTtlMs;
      if (now - session.lastSeen > ttl && !session.channel.working) {
        closing.push(this.close(session.id, 'expired'));
        continue;
      }
      session.channel.expireStandalone(now, this.#streamIdleMs, this.#streamMaxMs);
    }
    this.#onCheck?.(now);
    await Promise.allSettled(closing);
  }

  /** Closes at once the sessions whose credential is no longer accepted (after a key reload). */
  async revalidate(): Promise<void> {
    const check = this.#credentialValid;
    if (check === undefined) return;
    const now = this.#now();
    this.#onCheck?.(now);
    const ended = [...this.#sessions.values()].filter((session) => !check(session, now));
    await Promise.allSettled(ended.map((session) => this.close(session.id, 'revoked')));
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
