/**
 * @module server/engine
 * The MCP side: the session registry (caps, lifetimes, a credential's end ends its sessions),
 * the server factory (yours or the built-in tools), the policy and access rules, the tool
 * catalog, the event stores for resumable streams, the `subscriptions/listen` streams, and the
 * Streamable HTTP handler over them.
 */

import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Challenges } from '../http/challenge.js';
import { accessRules } from '../mcp/access.js';
import { BUILTIN_ACCESS, createBuiltinServer } from '../mcp/builtin-server.js';
import { ToolCatalog } from '../mcp/catalog.js';
import { DefaultPolicy } from '../mcp/policy.js';
import { SessionRegistry, type ServerFactory } from '../mcp/sessions.js';
import { ListenHub } from '../mcp/transport/listen.js';
import { StreamableHttpHandler } from '../mcp/transport/streamable-http.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { ServerStats } from '../observability/stats.js';
import type { Authenticator } from '../security/authenticator.js';
import type { ChangeSharing } from '../shared-state/change-sharing.js';
import type { SharedState } from '../shared-state/index.js';
import type { SessionSharing } from '../shared-state/session-sharing.js';
import { MemoryEventStore } from '../store/memory/event-store.js';
import type { Late, LateParts } from './late.js';
import type { WardenServerOptions } from './types.js';

/** SSE streams are named `<session id>/<n>`: their owner is the session's principal. */
export function streamOwnerOf(sessions: Late<SessionRegistry>): (streamId: string) => string | undefined {
  return (streamId) => sessions.get()?.peek(streamId.slice(0, streamId.indexOf('/')))?.principalId;
}

export function createSessions(
  config: Readonly<Config>,
  logger: Logger,
  now: () => number,
  parts: { readonly authenticator: Authenticator; readonly sharing: SessionSharing | undefined; readonly handler: LateParts['handler'] },
): SessionRegistry {
  const { authenticator, sharing } = parts;
  return new SessionRegistry({
    max: config.sessions.max,
    maxPerPrincipal: config.sessions.maxPerKey,
    ttlMs: config.sessions.ttl * 1000,
    unusedTtlMs: config.sessions.unusedTtl * 1000,
    streamIdleMs: config.sessions.streamIdleTimeout * 1000,
    streamMaxMs: config.sessions.streamMaxLifetime * 1000,
    // A credential's end ends what it opened: revoked, removed or expired keys, tokens past `exp`.
    credentialValid: (session, at) => authenticator.stillValid({ kind: session.principalKind, id: session.principalId }, session.credentialExpiresAt, at),
    now,
    onClosed: (session, reason) => {
      parts.handler.get()?.forgetSession(session.id);
      // A session that idled out or was evicted here may live on at another replica, and every
      // replica closes its own sessions of an ended credential: only forget our bookkeeping.
      // (Always: a session kept in the local list would be re-published after a Redis recovery.)
      sharing?.forget(session.id);
      if (reason === 'revoked') logger.info({ sessionId: session.id, principal: session.principalId }, 'session closed: its credential was revoked or expired');
    },
    onCheck: (at) => parts.handler.get()?.endRequestsOfEndedCredentials((principal, when) => authenticator.stillValid(principal, principal.expiresAt, when), at),
  });
}

export interface EngineParts {
  readonly sessions: SessionRegistry;
  readonly sharing: SessionSharing | undefined;
  /** Listen-stream changes to and from other replicas (Redis only). */
  readonly changes: ChangeSharing | undefined;
  readonly sharedState: SharedState;
  readonly events: SecurityEvents;
  readonly stats: ServerStats;
  readonly challenges: Challenges;
  readonly configSummary: () => Readonly<Record<string, unknown>>;
  readonly streamOwner: (streamId: string) => string | undefined;
}

export interface Engine {
  readonly mcp: StreamableHttpHandler;
  /** The `subscriptions/listen` streams; its notifier is `warden.notify`. */
  readonly listen: ListenHub;
  readonly catalog: ToolCatalog;
}

export function createEngine(options: WardenServerOptions, config: Readonly<Config>, logger: Logger, now: () => number, parts: EngineParts): Engine {
  const { sessions, sharing, changes, sharedState, events, stats, challenges, configSummary, streamOwner } = parts;
  const factory: ServerFactory = options.mcpServer ?? (() => createBuiltinServer({ status: () => stats.snapshot(), configSummary }));
  // The built-in tools keep no per-session engine state, so one engine serves every session.
  const shareEngine = options.mcpServer === undefined ? true : options.shareServer === true;
  const access = options.mcpServer === undefined ? BUILTIN_ACCESS : accessRules(options.operatorOnly);
  const policy = new DefaultPolicy({ events, access });
  const listen = new ListenHub({ maxStreams: config.sessions.maxListen, maxPerPrincipal: config.sessions.maxListenPerKey, relay: changes });
  const mcp = new StreamableHttpHandler({
    listen,
    factory,
    policy,
    sessions,
    stateless: config.stateless,
    shareEngine,
    sharing,
    now,
    eventStore: {
      local: new MemoryEventStore({
        maxBytes: config.eventStore.bytes,
        maxPrincipalBytes: config.eventStore.principalBytes,
        maxStreamBytes: config.eventStore.streamBytes,
        ownerOf: streamOwner,
      }),
      shared: sharedState.eventStore,
    },
    scopeChallenge: (_principal, denial) => challenges.scope(denial),
    events: {
      toolThrew: (message) => logger.warn({ detail: message.slice(0, 500) }, 'a tool handler threw; the client got a generic tool error'),
      scopeDenied: (ip, principal, tool) => events.scopeDenied(ip, principal, tool),
      sessionCreated: (ip, principal, sessionId) => events.sessionCreated(ip, principal, sessionId),
      headerMismatch: (ip, principal) => events.denied(ip, 'header_mismatch', principal),
      modernRequest: () => stats.modernRequest(),
    },
  });
  const catalog = new ToolCatalog(factory, access);
  return { mcp, listen, catalog };
}
