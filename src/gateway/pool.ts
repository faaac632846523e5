/**
 * @module gateway/pool
 * The connections of one upstream and the caps around them.
 *
 * Isolation (per upstream):
 * - `session`: each owner (a client session) gets a connection of its own, opened on its first
 *   {@link UpstreamPool.acquire} and closed by {@link UpstreamPool.release} (for stdio: a child
 *   per session, terminated when the session ends). An owner is bound to the principal that
 *   opened it: another principal presenting the same owner key is refused.
 * - `shared`: `poolSize` connections, opened on first use, handed out round-robin (skipping one
 *   that is down while another is not).
 *
 * Caps:
 * - child processes, all upstreams together and per principal, through one {@link ChildBudget}
 *   shared by every pool: `WARDEN_ERR_UPSTREAM_CAPACITY` (503) and
 *   `WARDEN_ERR_UPSTREAM_KEY_CAPACITY` (429). Only stdio connections hold a child; remote ones
 *   are not counted. A shared child counts in the total only.
 * - calls in flight to the upstream: `maxConcurrency`, as many more wait (within their call
 *   timeout), beyond that `WARDEN_ERR_UPSTREAM_BUSY` (503).
 * - the call timeout (`WARDEN_ERR_UPSTREAM_TIMEOUT`), counted from the moment the call arrives.
 *
 * {@link UpstreamPool.closeAll} (shutdown) closes every connection and resolves once every child
 * process group is gone.
 */

import type { Client, RequestOptions } from '@modelcontextprotocol/client';
import { WardenError } from '../errors.js';
import { upstreamError, type CallOptions, type ConnectionOptions, type Upstream, type UpstreamConnection } from './upstream.js';
import type { Timers } from './timers.js';

/**
 * Child processes at once: in total and per principal. One instance for the whole gateway.
 *
 * @example
 * const budget = new ChildBudget({ maxChildren: 64, maxChildrenPerKey: 8 });
 * const release = budget.reserve('everything', 'key:ab12'); // throws when a cap is reached
 * release();
 */
export class ChildBudget {
  readonly maxChildren: number;
  readonly maxChildrenPerKey: number;
  #total = 0;
  readonly #perKey = new Map<string, number>();

  constructor(options: { readonly maxChildren: number; readonly maxChildrenPerKey: number }) {
    this.maxChildren = options.maxChildren;
    this.maxChildrenPerKey = options.maxChildrenPerKey;
  }

  /** Children reserved now, all principals together. */
  get total(): number {
    return this.#total;
  }

  /** Children reserved now by `principal`. */
  countFor(principal: string): number {
    return this.#perKey.get(principal) ?? 0;
  }

  /**
   * Reserves one child for `principal` (`undefined`: a shared child, counted in the total only).
   * Returns the release function (idempotent).
   * @throws WardenError `WARDEN_ERR_UPSTREAM_KEY_CAPACITY` (per principal) or `WARDEN_ERR_UPSTREAM_CAPACITY` (total).
   */
  reserve(upstream: string, principal: string | undefined): () => void {
    if (principal !== undefined && this.countFor(principal) >= this.maxChildrenPerKey) {
      throw upstreamError('WARDEN_ERR_UPSTREAM_KEY_CAPACITY', upstream, `principal holds ${this.maxChildrenPerKey} children (maxChildrenPerKey)`);
    }
    if (this.#total >= this.maxChildren) throw upstreamError('WARDEN_ERR_UPSTREAM_CAPACITY', upstream, `${this.maxChildren} children running (maxChildren)`);
    this.#total++;
    if (principal !== undefined) this.#perKey.set(principal, this.countFor(principal) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      if (principal === undefined) return;
      const left = this.countFor(principal) - 1;
      if (left <= 0) this.#perKey.delete(principal);
      else this.#perKey.set(principal, left);
    };
  }
}

export interface PoolOptions {
  readonly budget: ChildBudget;
  /** Setup of the connections of a `shared` upstream (a `session` owner passes its own to `acquire`). */
  readonly shared?: ConnectionOptions;
}

interface Owner {
  readonly principal: string;
  /** Identifies this acquisition (a key released and acquired again gets a new one). */
  readonly token: object;
  readonly connection: Promise<UpstreamConnection>;
}

/**
 * The connections of one upstream.
 *
 * @example
 * const pool = new UpstreamPool(upstream, { budget });
 * const result = await pool.call(sessionId, principalId, (client, options) => client.callTool({ name: 'echo', arguments: { message: 'hi' } }, options));
 * await pool.release(sessionId); // session ended: its child goes
 * await pool.closeAll();         // shutdown: no child survives
 */
export class UpstreamPool {
  readonly upstream: Upstream;
  readonly #budget: ChildBudget;
  readonly #shared: ConnectionOptions;
  readonly #timers: Timers;
  readonly #owners = new Map<string, Owner>();
  readonly #slots: UpstreamConnection[] = [];
  readonly #live = new Set<UpstreamConnection>();
  #next = 0;
  #closed = false;
  #active = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(upstream: Upstream, options: PoolOptions) {
    this.upstream = upstream;
    this.#budget = options.budget;
    this.#shared = options.shared ?? {};
    this.#timers = upstream.timers;
  }

  get name(): string {
    return this.upstream.name;
  }

  get isolation(): 'session' | 'shared' {
    return this.upstream.config.isolation;
  }

  /** Calls running now / waiting for a slot now. */
  get load(): { readonly active: number; readonly waiting: number } {
    return { active: this.#active, waiting: this.#waiters.length };
  }

  /** Every connection not yet closed (opened or not). */
  connections(): UpstreamConnection[] {
    return [...this.#live];
  }

  /** Pids of the children running now (stdio upstreams). */
  pids(): number[] {
    return this.connections().flatMap((connection) => (connection.pid === undefined ? [] : [connection.pid]));
  }

  /**
   * The connection for `ownerKey` (session isolation: its own, opened now on first use; shared:
   * the next of the pool). `options` apply when a session connection is created.
   * @throws WardenError `WARDEN_ERR_UPSTREAM_CAPACITY` | `WARDEN_ERR_UPSTREAM_KEY_CAPACITY` |
   *   `WARDEN_ERR_UPSTREAM_UNAVAILABLE` (could not open) | `WARDEN_ERR_SHUTTING_DOWN`, and
   *   `WARDEN_ERR_INTERNAL` (reason `owner_principal_mismatch`) when another principal presents the key.
   */
  async acquire(ownerKey: string, principalId: string, options?: ConnectionOptions): Promise<UpstreamConnection> {
    if (this.#closed) throw new WardenError('WARDEN_ERR_SHUTTING_DOWN', { reason: 'gateway_pool_closed' });
    if (this.isolation === 'shared') return this.#sharedConnection();
    const existing = this.#owners.get(ownerKey);
    if (existing !== undefined) {
      if (existing.principal !== principalId) throw new WardenError('WARDEN_ERR_INTERNAL', { reason: 'owner_principal_mismatch' });
      return existing.connection;
    }
    const token = {};
    const owner: Owner = { principal: principalId, token, connection: this.#openOwned(ownerKey, token, principalId, options ?? {}) };
    this.#owners.set(ownerKey, owner);
    // A refused or failed open leaves nothing behind: the next acquire tries again.
    owner.connection.catch(() => {
      if (this.#owners.get(ownerKey)?.token === token) this.#owners.delete(ownerKey);
    });
    return owner.connection;
  }

  /** Ends `ownerKey`'s connection (session isolation); resolves once its child is gone. No-op when shared. */
  async release(ownerKey: string): Promise<void> {
    const owner = this.#owners.get(ownerKey);
    if (owner === undefined) return;
    this.#owners.delete(ownerKey);
    const connection = await owner.connection.catch(() => undefined);
    await connection?.close();
  }

  /**
   * One call through the pool: waits for a concurrency slot, acquires the owner's connection and
   * runs `run` under the call timeout (counted from now).
   * @throws as {@link acquire} and {@link UpstreamConnection.request}, and `WARDEN_ERR_UPSTREAM_BUSY`.
   */
  async call<T>(ownerKey: string, principalId: string, run: (client: Client, options: RequestOptions) => Promise<T>, options: CallOptions & { readonly connection?: ConnectionOptions } = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.upstream.config.callTimeoutMs;
    const started = this.#timers.now();
    await this.#enter(timeoutMs, options.signal);
    try {
      const connection = await this.acquire(ownerKey, principalId, options.connection);
      const left = timeoutMs - (this.#timers.now() - started);
      if (left <= 0) throw upstreamError('WARDEN_ERR_UPSTREAM_TIMEOUT', this.name, `no answer within ${timeoutMs} ms`);
      return await connection.request(run, { timeoutMs: left, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    } finally {
      this.#leave();
    }
  }

  /** Closes every connection; resolves once every child process group is gone. Later calls are refused. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const owners = [...this.#owners.values()];
    this.#owners.clear();
    const closing = [
      ...owners.map(async (owner) => (await owner.connection.catch(() => undefined))?.close()),
      ...[...this.#live].map((connection) => connection.close()),
    ];
    this.#slots.length = 0;
    await Promise.all(closing);
  }

  async #openOwned(ownerKey: string, token: object, principalId: string, options: ConnectionOptions): Promise<UpstreamConnection> {
    const release = this.upstream.config.kind === 'stdio' ? this.#budget.reserve(this.name, principalId) : () => undefined;
    const connection = this.#track(this.upstream.connection(options), release);
    try {
      await connection.ready();
    } catch (error) {
      await connection.close(); // releases the reservation
      throw error;
    }
    // Released while it was opening: close it now.
    if (this.#owners.get(ownerKey)?.token !== token || this.#closed) {
      await connection.close();
      throw new WardenError('WARDEN_ERR_SHUTTING_DOWN', { reason: 'released_while_opening' });
    }
    return connection;
  }

  #sharedConnection(): UpstreamConnection {
    const size = this.upstream.config.poolSize;
    const start = this.#next++ % size;
    for (let offset = 0; offset < size; offset++) {
      const index = (start + offset) % size;
      const slot = this.#slots[index];
      if (slot === undefined) return this.#openSlot(index);
      if (slot.state !== 'down') return slot;
    }
    return this.#slots[start] as UpstreamConnection;
  }

  #openSlot(index: number): UpstreamConnection {
    const release = this.upstream.config.kind === 'stdio' ? this.#budget.reserve(this.name, undefined) : () => undefined;
    const connection = this.#track(this.upstream.connection(this.#shared), release);
    this.#slots[index] = connection;
    return connection;
  }

  #track(connection: UpstreamConnection, release: () => void): UpstreamConnection {
    this.#live.add(connection);
    connection.onClose(() => {
      this.#live.delete(connection);
      release();
    });
    return connection;
  }

  async #enter(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.upstream.config.maxConcurrency) {
      this.#active++;
      return;
    }
    if (this.#waiters.length >= this.upstream.config.maxConcurrency) throw upstreamError('WARDEN_ERR_UPSTREAM_BUSY', this.name, `${this.#active} calls running and ${this.#waiters.length} waiting`);
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const leave = (error: unknown): void => {
        const index = this.#waiters.indexOf(wake);
        if (index !== -1) this.#waiters.splice(index, 1);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = (): void => leave(signal?.reason);
      const timer = this.#timers.setTimeout(() => leave(upstreamError('WARDEN_ERR_UPSTREAM_TIMEOUT', this.name, `no slot within ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(wake);
    });
  }

  #leave(): void {
    const next = this.#waiters.shift();
    // The slot passes straight to the next waiter; `#active` stays the same.
    if (next !== undefined) next();
    else this.#active--;
  }
}
