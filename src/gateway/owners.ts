/**
 * @module gateway/owners
 * Who owns the gateway's upstream connections, so they end with their owner.
 *
 * - A 2025-era session owns its connections (`session:<session id>`): with `session`
 *   isolation it gets a child of its own per upstream, ended when the session ends.
 * - 2026-07-28 requests and `--stateless` 2025 requests have no session: their connections
 *   belong to the principal (`principal:<principal id>`), shared by every request of that
 *   credential on this replica, and ended after `idleMs` without a request or when the
 *   credential ends (revoked, removed, expired).
 *
 * An owner also records the requests it has in flight (the handler contexts), so a request the
 * upstream sends back while serving one of them (sampling, elicitation, roots) is relayed as a
 * request related to it (`gateway/relay`).
 */

import type { ServerContext } from '@modelcontextprotocol/server';
import type { Client } from '@modelcontextprotocol/client';
import type { Principal } from '../security/identity.js';

export interface Owner {
  readonly key: string;
  /** As its latest request presented it (a refreshed token moves its end). */
  principal: Principal;
  /** True for a 2025 session owner (released with its session), false for a principal owner. */
  readonly session: boolean;
  /** Clock of the last request that used it. */
  lastUsed: number;
  /** Requests in flight, oldest first. */
  readonly inFlight: ServerContext[];
  /** Upstream clients opened for it (session isolation), for notifications it forwards upstream. */
  readonly clients: Set<Client>;
}

/** The owner key of a 2025 session. */
export function sessionOwnerKey(sessionId: string): string {
  return `session:${sessionId}`;
}

/** The owner key of a principal's sessionless requests. */
export function principalOwnerKey(principal: Principal): string {
  return `principal:${principal.id}`;
}

export class Owners {
  readonly #owners = new Map<string, Owner>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#owners.size;
  }

  get(key: string): Owner | undefined {
    return this.#owners.get(key);
  }

  /** The owner of `key` (created on first use), with `context` recorded in flight. */
  enter(key: string, principal: Principal, session: boolean, context: ServerContext): Owner {
    let owner = this.#owners.get(key);
    if (owner === undefined) {
      owner = { key, principal, session, lastUsed: this.#now(), inFlight: [], clients: new Set() };
      this.#owners.set(key, owner);
    }
    owner.principal = principal;
    owner.lastUsed = this.#now();
    owner.inFlight.push(context);
    return owner;
  }

  /** `context` is answered. */
  leave(owner: Owner, context: ServerContext): void {
    const index = owner.inFlight.indexOf(context);
    if (index !== -1) owner.inFlight.splice(index, 1);
    owner.lastUsed = this.#now();
  }

  /** Forgets `key`; returns the owner it was. */
  delete(key: string): Owner | undefined {
    const owner = this.#owners.get(key);
    this.#owners.delete(key);
    return owner;
  }

  /** Principal owners with nothing in flight, unused for `idleMs` or more. */
  idle(idleMs: number): Owner[] {
    const cutoff = this.#now() - idleMs;
    return [...this.#owners.values()].filter((owner) => !owner.session && owner.inFlight.length === 0 && owner.lastUsed <= cutoff);
  }

  /** Owners whose principal `valid` no longer accepts. */
  ended(valid: (principal: Principal) => boolean): Owner[] {
    return [...this.#owners.values()].filter((owner) => !valid(owner.principal));
  }
}
