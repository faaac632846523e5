/**
 * @module server/late
 * The parts the wiring builds after a part that needs them: the metrics count sessions and bans
 * built later, the shared event store asks who owns a stream, a keys reload revalidates the
 * sessions, and the session registry tells the transport a session closed. Each is bound once,
 * by the wiring, in its order; until then callers answer the neutral value (0 sessions, no
 * owner, nothing to forget), which is what the parts would answer with nothing in them.
 */

import type { StreamableHttpHandler } from '../mcp/transport/streamable-http.js';
import type { SessionRegistry } from '../mcp/sessions.js';
import type { BanList } from '../security/ban-list.js';

/** A part built later: `get()` is undefined until `set()` (once). */
export class Late<T> {
  #value: T | undefined;

  /** Binds the part; returns it, so the wiring can write `const x = late.x.set(build())`. */
  set(value: T): T {
    if (this.#value !== undefined) throw new Error('a late part was bound twice');
    this.#value = value;
    return value;
  }

  get(): T | undefined {
    return this.#value;
  }
}

/** The parts the wiring builds after something that needs them. */
export interface LateParts {
  readonly sessions: Late<SessionRegistry>;
  readonly bans: Late<BanList>;
  readonly handler: Late<StreamableHttpHandler>;
  /** Every handler (`/mcp` and the gateway's `/mcp/<upstream>` paths), bound with `handler`. */
  readonly handlers: Late<readonly StreamableHttpHandler[]>;
}

export function lateParts(): LateParts {
  return { sessions: new Late(), bans: new Late(), handler: new Late(), handlers: new Late() };
}
