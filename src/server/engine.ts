/**
 * @module server/engine
 * The MCP side: the session registry (caps, lifetimes, a credential's end ends its sessions),
 * the server factory (yours or the built-in tools, with the request-state codec and the
 * per-session client capabilities), the policy and access rules, the tool catalog, the event
 * stores for resumable streams, the `subscriptions/listen` streams, and the Streamable HTTP
 * handler over them.
 */

import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Challenges } from '../http/challenge.js';
import { accessRules, type AccessRules } from '../mcp/access.js';
import type { Gateway } from '../gateway/router.js';
import { redactText } from '../gateway/secrets.js';
import type { Principal } from '../security/identity.js';
import { BUILTIN_ACCESS, createBuiltinServer } from '../mcp/builtin-server.js';
import { ToolCatalog } from '../mcp/catalog.js';
import { DefaultPolicy } from '../mcp/policy.js';
import type { RequestStateTools } from '../mcp/request-state-hook.js';
import type { SessionCapabilities } from '../mcp/session-capabilities.js';
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
  parts: {
    readonly authenticator: Authenticator;
    readonly sharing: SessionSharing | undefined;
    /** Every handler sharing the registry (`/mcp`, and the gateway's `/mcp/<upstream>` paths). */
    readonly handlers: LateParts['handlers'];
    readonly capabilities: SessionCapabilities;
    /** Ends the gateway connections of ended credentials (sessionless requests' connections). */
    readonly gateway: Gateway | undefined;
  },
): SessionRegistry {
  const { authenticator, sharing, gateway } = parts;
  const handlers = (): readonly StreamableHttpHandler[] => parts.handlers.get() ?? [];
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
      for (const handler of handlers()) handler.forgetSession(session.id);
      parts.capabilities.forget(session.id);
      // A session that idled out or was evicted here may live on at another replica, and every
      // replica closes its own sessions of an ended credential: only forget our bookkeeping.
      // (Always: a session kept in the local list would be re-published after a Redis recovery.)
      sharing?.forget(session.id);
      if (reason === 'revoked') logger.info({ sessionId: session.id, principal: session.principalId }, 'session closed: its credential was revoked or expired');
    },
    onCheck: (at) => {
      const valid = (principal: Principal, when: number): boolean => authenticator.stillValid(principal, principal.expiresAt, when);
      for (const handler of handlers()) handler.endRequestsOfEndedCredentials(valid, at);
      void gateway?.endOwners((principal) => valid(principal, at));
    },
  });
}

export interface EngineParts {
  /** Your factory (checked and given the codec by `createServer`); undefined: the built-in server. */
  readonly mcpServer: ServerFactory | undefined;
  /** Upstream servers served instead of yours or the built-in one (`server/gateway`). */
  readonly gateway: Gateway | undefined;
  readonly requestState: RequestStateTools;
  readonly capabilities: SessionCapabilities;
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
  /** The gateway's upstreams alone, by name (served on `/mcp/<name>`); empty without a gateway. */
  readonly upstreams: ReadonlyMap<string, StreamableHttpHandler>;
  /** `mcp` and every upstream handler. */
  readonly handlers: readonly StreamableHttpHandler[];
  /** The `subscriptions/listen` streams; its notifier is `warden.notify`. */
  readonly listen: ListenHub;
  readonly catalog: ToolCatalog;
}

export function createEngine(options: WardenServerOptions, config: Readonly<Config>, logger: Logger, now: () => number, parts: EngineParts): Engine {
  const { mcpServer, gateway, requestState, capabilities, sessions, sharing, changes, sharedState, events, stats, challenges, configSummary, streamOwner } = parts;
  const factory: ServerFactory = gateway?.factory() ?? mcpServer ?? (() => createBuiltinServer({ status: () => stats.snapshot(), configSummary, requestState, capabilities }));
  // The built-in tools keep no per-session engine state, so one engine serves every session;
  // a gateway's sessions each own their upstream connections (and relays), so never share.
  const shareEngine = gateway !== undefined ? false : mcpServer === undefined ? true : options.shareServer === true;
  const access = gateway?.accessRules() ?? (mcpServer === undefined ? BUILTIN_ACCESS : accessRules(options.operatorOnly));
  const listenHub = (): ListenHub => new ListenHub({ maxStreams: config.sessions.maxListen, maxPerPrincipal: config.sessions.maxListenPerKey, relay: changes });
  const eventStore = {
    local: new MemoryEventStore({
      maxBytes: config.eventStore.bytes,
      maxPrincipalBytes: config.eventStore.principalBytes,
      maxStreamBytes: config.eventStore.streamBytes,
      ownerOf: streamOwner,
    }),
    shared: sharedState.eventStore,
  };
  const handlerEvents = {
    toolThrew: (message: string) => logger.warn({ detail: redactText(message.slice(0, 500)) }, 'a tool handler threw; the client got a generic tool error'),
    scopeDenied: (ip: string, principal: Principal, tool: string) => events.scopeDenied(ip, principal, tool),
    sessionCreated: (ip: string, principal: Principal, sessionId: string) => events.sessionCreated(ip, principal, sessionId),
    headerMismatch: (ip: string, principal: Principal) => events.denied(ip, 'header_mismatch', principal),
    modernRequest: () => stats.modernRequest(),
  };
  const handlerFor = (serve: ServerFactory, rules: AccessRules, listen: ListenHub, endpoint: string, shared: SessionSharing | undefined): StreamableHttpHandler =>
    new StreamableHttpHandler({
      listen,
      factory: serve,
      policy: new DefaultPolicy({ events, access: rules }),
      sessions,
      stateless: config.stateless,
      shareEngine,
      sharing: shared,
      now,
      eventStore,
      scopeChallenge: (_principal, denial) => challenges.scope(denial),
      events: handlerEvents,
      endpoint,
    });
  const listen = listenHub();
  const mcp = handlerFor(factory, access, listen, '/mcp', sharing);
  // Each upstream alone on /mcp/<name>. Its sessions hold this replica's children, so they are
  // not shared with other replicas (route them with session affinity; README "Gateway").
  const upstreams = new Map<string, StreamableHttpHandler>();
  for (const name of gateway?.upstreams ?? []) {
    upstreams.set(name, handlerFor((gateway as Gateway).factory(name), (gateway as Gateway).accessRules(name), listenHub(), `/mcp/${name}`, undefined));
  }
  const catalog = new ToolCatalog(factory, access);
  return { mcp, upstreams, handlers: [mcp, ...upstreams.values()], listen, catalog };
}
