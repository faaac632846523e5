/**
 * @module store/types
 * The narrow interfaces behind which shared state lives. Each has a memory implementation
 * (the embedded default) and may have others (Redis for several replicas). The rate-limit,
 * session and event stores and the event bus each have a contract test suite run against every
 * implementation (`test/store`).
 */

/** Outcome of counting one request against a rolling-window limit. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests still allowed in the current window after this one (0 when denied). */
  readonly remaining: number;
  /**
   * Milliseconds until at least one more request fits: when denied, how long to wait; when
   * allowed, when the oldest counted request leaves the window.
   */
  readonly resetMs: number;
}

/**
 * A rolling-window counter. Guarantee every implementation must keep: for any key, no window
 * of the store's length ever contains more than `limit` allowed requests.
 */
export interface RateLimitStore {
  /** Window length in milliseconds, fixed per store. */
  readonly windowMs: number;
  /** Counts one request for `key` if it fits under `limit`; denied requests are not counted. */
  consume(key: string, limit: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Forgets `key` (a ban clears the banned client's authentication-failure count). */
  reset(key: string): void | Promise<void>;
  /** Number of keys currently tracked. */
  readonly size: number;
  close(): void | Promise<void>;
}

/** What a replica needs to rebuild a session it does not hold (no secrets). */
export interface SessionMeta {
  readonly id: string;
  /** The principal that created the session; nobody else may use it. */
  readonly principalId: string;
  readonly protocolVersion: string;
  /** `clientInfo` and `capabilities` from the client's initialize request. */
  readonly clientInfo: unknown;
  readonly clientCapabilities: unknown;
  readonly createdAt: number;
}

/** Session metadata shared by the replicas (memory: this process only). */
export interface SessionStore {
  save(meta: SessionMeta, ttlMs: number): Promise<void>;
  load(id: string): Promise<SessionMeta | undefined>;
  /** Extends the session's life after use. */
  touch(id: string, ttlMs: number): Promise<void>;
  delete(id: string): Promise<void>;
}

/**
 * A tightening of a key known to every replica's keys file: revoked, or expiring at a time.
 * Shared state can only tighten keys, never add one, so a writable Redis cannot grant access.
 */
export interface KeyRestriction {
  readonly id: string;
  readonly disabled: boolean;
  /** Epoch ms; absent when the key does not expire. */
  readonly expiresAt?: number | undefined;
}

/** Longest resource URI a change may name (bounds the listen filter and the bus message). */
export const MAX_CHANGE_URI_CHARS = 2048;

/**
 * A change `subscriptions/listen` streams announce (MCP 2026-07-28 basic/patterns/subscriptions):
 * a list changed, or one resource was updated. Shaped like the SDK's `ServerEvent`.
 */
export type ServerChange =
  | { readonly kind: 'tools_list_changed' }
  | { readonly kind: 'prompts_list_changed' }
  | { readonly kind: 'resources_list_changed' }
  | { readonly kind: 'resource_updated'; readonly uri: string };

/** A message between replicas. `origin` is the sending replica's id. */
export type BusMessage =
  | { readonly type: 'session_closed'; readonly origin: string; readonly sessionId: string }
  | { readonly type: 'keys_restricted'; readonly origin: string; readonly restrictions: readonly KeyRestriction[] }
  | { readonly type: 'ban'; readonly origin: string; readonly client: string; readonly until: number }
  | { readonly type: 'stream'; readonly origin: string; readonly sessionId: string; readonly message: unknown }
  /** A change that happened on the sending replica, for the listen streams the others hold. */
  | { readonly type: 'change'; readonly origin: string; readonly change: ServerChange };

/** Publish/subscribe between replicas (memory: delivers to this process only). */
export interface EventBus {
  publish(message: BusMessage): Promise<void>;
  /**
   * Receives every message (including this replica's own; filter by `origin`), in the order
   * each publisher sent them. A handler that throws is isolated: the others still run.
   */
  onMessage(handler: (message: BusMessage) => void): void;
  close(): Promise<void>;
}

/** One stored SSE event of a stream: the message as serialized JSON. */
export interface StoredEvent {
  readonly seq: number;
  readonly data: string;
}

/** The events of a stream after some point, and whether the stream has ended. */
export interface StoredEvents {
  readonly events: readonly StoredEvent[];
  readonly ended: boolean;
}

/**
 * The recent events of SSE streams, so a client that lost its connection can resume with
 * `Last-Event-ID` (Streamable HTTP §resumability and redelivery). Bounded per stream and in time.
 */
export interface EventStore {
  /** Records an event (the message as serialized JSON); never blocks the caller. */
  append(streamId: string, seq: number, data: string): void;
  /** Records that the stream is finished (its last event has been appended). */
  end(streamId: string): void;
  /** Events after `afterSeq`, oldest first; undefined when the stream is unknown or expired. */
  replay(streamId: string, afterSeq: number): StoredEvents | undefined | Promise<StoredEvents | undefined>;
}
