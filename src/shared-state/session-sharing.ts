/**
 * @module shared-state/session-sharing
 * What lets several replicas act as one server for MCP sessions: session metadata in a shared
 * store (so any replica can rebuild a session it does not hold), session ends broadcast to all
 * replicas, and server-to-client messages relayed to the replica that holds the session's GET
 * stream. Built only with Redis (several replicas); with the memory stores there is one
 * process and no sharing at all.
 */

import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { BusMessage, EventBus, SessionMeta, SessionStore } from '../store/types.js';

export interface SessionSharingOptions {
  readonly store: SessionStore;
  readonly bus: EventBus;
  /** This replica's id (filters out our own bus messages). */
  readonly replicaId: string;
  readonly ttlMs: number;
  /** A store or bus call failed (Redis down): counted and logged by the caller. */
  readonly onError?: (error: unknown) => void;
  /** Clock for the touch bookkeeping (default `Date.now`). */
  readonly now?: () => number;
}

export class SessionSharing {
  readonly #store: SessionStore;
  readonly #bus: EventBus;
  readonly #replicaId: string;
  readonly #ttlMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;
  /** Last time each session's TTL was extended in the store (to touch at most every ttl/10). */
  readonly #touched = new Map<string, number>();
  /**
   * Sessions created here and still open here, so their records can be written again when the
   * store comes back (created during an outage, or lost when Redis restarted empty).
   */
  readonly #local = new Map<string, SessionMeta>();
  #closedHandler: ((sessionId: string) => void) | undefined;
  #streamHandler: ((sessionId: string, message: JSONRPCMessage) => void) | undefined;

  constructor(options: SessionSharingOptions) {
    this.#store = options.store;
    this.#bus = options.bus;
    this.#replicaId = options.replicaId;
    this.#ttlMs = options.ttlMs;
    this.#onError = options.onError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    this.#bus.onMessage((message) => this.#receive(message));
  }

  /** Called when another replica ended a session. */
  onRemoteClose(handler: (sessionId: string) => void): void {
    this.#closedHandler = handler;
  }

  /** Called with a server-to-client message another replica relayed for a session's GET stream. */
  onRemoteStream(handler: (sessionId: string, message: JSONRPCMessage) => void): void {
    this.#streamHandler = handler;
  }

  /** Records a new session; resolves once it is visible to other replicas (or failed). */
  async created(meta: SessionMeta): Promise<void> {
    this.#local.set(meta.id, meta);
    try {
      await this.#store.save(meta, this.#ttlMs);
      this.#touched.set(meta.id, this.#now());
    } catch (error) {
      this.#onError(error);
    }
  }

  /**
   * Writes the record of every session created here again (after Redis failed or lost its
   * data), so sessions created during an outage become usable on every replica.
   */
  async republish(): Promise<number> {
    let saved = 0;
    for (const meta of [...this.#local.values()]) {
      try {
        await this.#store.save(meta, this.#ttlMs);
        this.#touched.set(meta.id, this.#now());
        saved++;
      } catch (error) {
        this.#onError(error);
        break;
      }
    }
    return saved;
  }

  /** The metadata of a session this replica does not hold; undefined when unknown or unreachable. */
  async lookup(id: string): Promise<SessionMeta | undefined> {
    try {
      return await this.#store.load(id);
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  /** Keeps a used session alive in the store, at most once per tenth of its TTL. */
  used(id: string): void {
    const now = this.#now();
    const last = this.#touched.get(id) ?? 0;
    if (now - last < this.#ttlMs / 10) return;
    this.#touched.set(id, now);
    this.#store.touch(id, this.#ttlMs).catch((error: unknown) => this.#onError(error));
  }

  /** Ends a session everywhere. */
  async ended(id: string): Promise<void> {
    this.#touched.delete(id);
    this.#local.delete(id);
    try {
      await this.#store.delete(id);
      await this.#bus.publish({ type: 'session_closed', origin: this.#replicaId, sessionId: id });
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Forgets local bookkeeping of a session that expired here (it may live on elsewhere). */
  forget(id: string): void {
    this.#touched.delete(id);
    this.#local.delete(id);
  }

  /**
   * Relays a message for a GET stream this replica does not hold. Only responses and
   * notifications travel: a server-to-client request is delivered only by the replica whose
   * engine issued it (the one that can receive its answer), so it is not relayed.
   */
  relay(sessionId: string, message: JSONRPCMessage): void {
    if ('method' in message && 'id' in message) return;
    this.#bus.publish({ type: 'stream', origin: this.#replicaId, sessionId, message }).catch((error: unknown) => this.#onError(error));
  }

  #receive(message: BusMessage): void {
    if (message.origin === this.#replicaId) return;
    if (message.type === 'session_closed') this.#closedHandler?.(message.sessionId);
    else if (message.type === 'stream') this.#streamHandler?.(message.sessionId, message.message as JSONRPCMessage);
  }
}
