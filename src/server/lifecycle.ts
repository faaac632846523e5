/**
 * @module server/lifecycle
 * Start and stop: the connection guard installed before listen, the close hooks that end
 * streams first and release every part after, start-up (shared state sync, engine, catalog,
 * keys file watch, listen, the start log) and a graceful stop within its deadline.
 */

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { SessionRegistry } from '../mcp/sessions.js';
import { VERSION } from '../version.js';
import type { Credentials } from './credentials.js';
import type { Gateway } from '../gateway/router.js';
import type { Engine } from './engine.js';
import type { Observability } from './observability.js';
import type { ServerSharedState } from './shared-state.js';
import type { WardenServer } from './types.js';

export interface LifecycleParts {
  readonly observed: Observability;
  readonly shared: ServerSharedState;
  readonly credentials: Credentials;
  readonly sessions: SessionRegistry;
  readonly engine: Engine;
  readonly gateway: Gateway | undefined;
}

/** Installs the connection guard and the close hooks on the app. */
export function installLifecycle(app: FastifyInstance, parts: LifecycleParts): void {
  const { observed: { connections }, shared: { sharedState, bans, rateLimitStore, keyRateLimitStore, toolRateLimitStores }, credentials: { keySource }, sessions, engine: { handlers, catalog }, gateway } = parts;
  // Before listen: refused connections never reach Node's HTTP parser.
  connections.install(app.server);

  // Idle GET and listen streams would hold the server open; they end first (listen streams with
  // their graceful result), in-flight requests may finish.
  app.addHook('preClose', async () => {
    sessions.endStreams();
    for (const handler of handlers) handler.modern.endStreams();
  });
  app.addHook('onClose', async () => {
    keySource.close();
    connections.close();
    for (const handler of handlers) await handler.close();
    await catalog.close();
    // After the sessions (whose children go with them): no child survives the server.
    await gateway?.close();
    await rateLimitStore.close();
    await keyRateLimitStore.close();
    for (const store of toolRateLimitStores.values()) await store.close();
    bans.close();
    await sharedState.close();
  });
}

/** Listens on `config.host:config.port` once everything is started; resolves to the base URL. */
export async function start(config: Readonly<Config>, logger: Logger, app: FastifyInstance, parts: LifecycleParts): Promise<string> {
  const { observed: { audit, refusalAudit }, shared: { sharedState, readiness }, credentials: { keySource, jwt }, engine: { handlers, catalog }, gateway } = parts;
  readiness.start();
  if (!(await sharedState.ready(2000))) {
    logger.warn({ policy: config.redis?.failure, syncTimeoutSeconds: config.redis?.syncTimeout }, 'redis not reachable at start; not ready (503) until the shared state is synced');
  }
  for (const handler of handlers) await handler.start();
  await catalog.start();
  gateway?.start();
  keySource.start();
  const url = await app.listen({ host: config.host, port: config.port });
  audit?.record({ event: 'server_start', version: VERSION, url });
  refusalAudit?.record({ event: 'server_start', version: VERSION, url });
  logger.info(
    {
      url,
      version: VERSION,
      keyCount: keySource.activeCount(),
      rateLimit: `${config.rateLimit}/${config.rateWindow}s`,
      stateless: config.stateless,
      oauth: jwt !== undefined,
      oauthIssuer: config.authorizationServer?.issuer,
      sharedState: sharedState.mode,
      replica: sharedState.replicaId,
      upstreams: gateway?.upstreams,
    },
    'mcp-warden listening',
  );
  return url;
}

/** Closes the app within `config.shutdownTimeout` (then cuts what is left), then flushes and closes the trails. */
export async function stop(config: Readonly<Config>, logger: Logger, app: FastifyInstance, observed: Observability): Promise<void> {
  const { refusedRequests, events, audit, refusalAudit } = observed;
  const deadline = config.shutdownTimeout * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadline);
    timer.unref();
  });
  const closing = app.close();
  if ((await Promise.race([closing.then(() => 'closed' as const), timedOut])) === 'timeout') {
    logger.warn({ deadlineMs: deadline }, 'shutdown deadline reached; closing remaining connections');
    app.server.closeAllConnections();
    await closing;
  }
  clearTimeout(timer);
  // Pending refusal summaries go out before the trails close.
  refusedRequests.close();
  events.close();
  for (const [file, trail] of [[config.audit.log, audit], [config.audit.refusalsLog, refusalAudit]] as const) {
    if (trail === undefined) continue;
    trail.record({ event: 'server_stop' });
    await trail.close();
    // The chain head, logged outside the audit file: the anchor that reveals truncation.
    logger.info({ auditFile: file, auditSeq: trail.head.seq, auditHash: trail.head.hash }, 'audit log closed (chain head)');
  }
  logger.info('mcp-warden stopped');
  logger.flush();
}

/** The start, stop (once, however often called) and address of a built server. */
export function lifecycle(config: Readonly<Config>, logger: Logger, app: FastifyInstance, parts: LifecycleParts): Pick<WardenServer, 'start' | 'stop' | 'address'> {
  let stopping: Promise<void> | undefined;
  return {
    start: () => start(config, logger, app, parts),
    stop(): Promise<void> {
      stopping ??= stop(config, logger, app, parts.observed);
      return stopping;
    },
    address(): AddressInfo | undefined {
      const address = app.server.address();
      return address !== null && typeof address === 'object' ? address : undefined;
    },
  };
}
