/**
 * @module shared-state/change-sharing
 * Carries the changes `subscriptions/listen` streams announce (a list changed, a resource was
 * updated) between replicas, so a client listening on replica B hears of a tool registered on
 * replica A. Built only with Redis, like session sharing; the messages travel in the signed bus
 * envelope (`store/redis/signed-bus`), which drops forged, stale and replayed ones.
 *
 * Exactly once per stream, by construction rather than by bookkeeping: a replica publishes only
 * changes that happened on it (its engine, `warden.notify`), ignores its own messages coming
 * back, and hands received ones to its own listen streams only, never to the bus again. So a
 * change crosses the bus once and no message can loop.
 */

import type { BusMessage, EventBus, ServerChange } from '../store/types.js';

/** What the listen streams need from the replicas: send local changes, hear the others'. */
export interface ChangeRelay {
  /** Publishes a change that happened on this replica (fire and forget). */
  publish(change: ServerChange): void;
  /** Called with each change another replica published. */
  onRemote(handler: (change: ServerChange) => void): void;
}

export interface ChangeSharingOptions {
  readonly bus: EventBus;
  /** This replica's id: its own messages are not delivered back to it. */
  readonly replicaId: string;
  /** A publish failed (Redis down): counted and logged by the caller. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The {@link ChangeRelay} over the replicas' event bus.
 *
 * @example
 * const changes = new ChangeSharing({ bus: sharedState.bus, replicaId: sharedState.replicaId });
 * changes.onRemote((change) => hub.deliver(change));
 * changes.publish({ kind: 'tools_list_changed' });
 */
export class ChangeSharing implements ChangeRelay {
  readonly #bus: EventBus;
  readonly #replicaId: string;
  readonly #onError: (error: unknown) => void;
  #handler: ((change: ServerChange) => void) | undefined;

  constructor(options: ChangeSharingOptions) {
    this.#bus = options.bus;
    this.#replicaId = options.replicaId;
    this.#onError = options.onError ?? (() => undefined);
    this.#bus.onMessage((message) => this.#receive(message));
  }

  publish(change: ServerChange): void {
    this.#bus.publish({ type: 'change', origin: this.#replicaId, change }).catch((error: unknown) => this.#onError(error));
  }

  onRemote(handler: (change: ServerChange) => void): void {
    this.#handler = handler;
  }

  #receive(message: BusMessage): void {
    if (message.type !== 'change' || message.origin === this.#replicaId) return;
    this.#handler?.(message.change);
  }
}
