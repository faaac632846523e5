/**
 * @module gateway/relay
 * Requests an upstream sends back to its client (sampling, elicitation, roots: 2025-era
 * server-to-client requests), relayed to the gateway's own client where one can answer.
 *
 * This module relays to 2025 sessions: a session's connection to a `session`-isolation
 * upstream belongs to it alone, so the request has one possible recipient. That connection
 * announces upstream the capabilities (`sampling`, `elicitation`, `roots`) the session's client
 * announced to us ({@link relayCapabilities}); the upstream's request is then sent to the
 * session, as a request related to the session's oldest request in flight (so it rides that
 * request's response stream, as the 2025 Streamable HTTP transport wants), or on the session's
 * GET stream when nothing is in flight.
 *
 * Elsewhere:
 * - 2026-07-28 clients get server-to-client requests only through `input_required` results with
 *   sealed state: their principal's own connections announce the three capabilities and relay
 *   through `gateway/input-rounds`;
 * - `--stateless` 2025 requests share those principal connections but have no session to send
 *   to: `gateway/input-rounds` refuses what the upstream asks while serving one;
 * - a `shared` upstream's connections serve many clients at once (whose client would answer?):
 *   nothing is announced, so a conforming upstream does not ask, and one that does is refused
 *   by the SDK (method not found).
 * Roots changes the session's client announces (`notifications/roots/list_changed`) are
 * forwarded to its upstream connections.
 */

import type { Client, ClientCapabilities } from '@modelcontextprotocol/client';
import type { Server } from '@modelcontextprotocol/server';
import type { Owner } from './owners.js';

/** The relayable capabilities the session's client announced (empty without a session product). */
export function relayCapabilities(product: Server | undefined): ClientCapabilities {
  const announced = product?.getClientCapabilities();
  if (announced === undefined) return {};
  const capabilities: ClientCapabilities = {};
  if (announced.sampling !== undefined) capabilities.sampling = announced.sampling;
  if (announced.elicitation !== undefined) capabilities.elicitation = announced.elicitation;
  if (announced.roots !== undefined) capabilities.roots = announced.roots;
  return capabilities;
}

/**
 * Registers on `client` (a session's upstream connection) the handlers relaying what
 * `capabilities` announced to `product`, the session's server.
 */
export function installRelay(client: Client, product: Server, owner: () => Owner | undefined, capabilities: ClientCapabilities): void {
  /** The session's oldest request in flight: the one the upstream is most likely serving. */
  const related = () => owner()?.inFlight[0];
  if (capabilities.sampling !== undefined) {
    client.setRequestHandler('sampling/createMessage', (request, ctx) => {
      const through = related();
      const options = { signal: ctx.mcpReq.signal };
      return through === undefined ? product.createMessage(request.params, options) : through.mcpReq.send({ method: 'sampling/createMessage', params: request.params }, options);
    });
  }
  if (capabilities.elicitation !== undefined) {
    client.setRequestHandler('elicitation/create', (request, ctx) => {
      const through = related();
      const options = { signal: ctx.mcpReq.signal };
      return through === undefined ? product.elicitInput(request.params, options) : through.mcpReq.send({ method: 'elicitation/create', params: request.params }, options);
    });
  }
  if (capabilities.roots !== undefined) {
    client.setRequestHandler('roots/list', (request, ctx) => {
      const through = related();
      const options = { signal: ctx.mcpReq.signal };
      return through === undefined ? product.listRoots(request.params, options) : through.mcpReq.send({ method: 'roots/list', params: request.params }, options);
    });
  }
}

/** Forwards the session client's roots changes to the owner's upstream connections. */
export function forwardRootsChanges(product: Server, owner: () => Owner | undefined): void {
  product.setNotificationHandler('notifications/roots/list_changed', () => {
    for (const client of owner()?.clients ?? []) void client.sendRootsListChanged().catch(() => undefined);
  });
}
