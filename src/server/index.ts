/**
 * @module server
 * Composition root: builds the parts of a server from a validated configuration, each concern
 * by its own module from what the previous ones returned (credentials, observability, shared
 * state, the MCP engine, the summaries, the HTTP app, the lifecycle), and hands them to the
 * CLI and the library API through {@link createServer}. The few parts needed before they can
 * be built (the metrics count sessions built later) are bound through `late`.
 */

import { checkedFactory } from '../mcp/sdk-version.js';
import { createCredentials, withCredential } from './credentials.js';
import { createEngine, createSessions, streamOwnerOf } from './engine.js';
import { createGateway } from './gateway.js';
import { createHttpApp } from './http.js';
import { lateParts } from './late.js';
import { installLifecycle, lifecycle } from './lifecycle.js';
import { createObservability, createServerLogger } from './observability.js';
import { createRequestState, createSessionCapabilities, withRequestState } from './request-state.js';
import { createServerSharedState } from './shared-state.js';
import { createSummaries } from './summaries.js';
import type { WardenServer, WardenServerOptions } from './types.js';

export type { WardenServer, WardenServerOptions, FactoryContext, WardenServerFactory } from './types.js';

/**
 * Creates an mcp-warden server with every security layer on. `mcpServer` must build SDK v2
 * servers (`@modelcontextprotocol/server`); it is called once here to check that (an SDK v1
 * server rejects with `WARDEN_ERR_UNSUPPORTED_SDK`), and that first server is used, not discarded.
 *
 * @example
 * import { McpServer } from '@modelcontextprotocol/server';
 * import { createServer } from 'mcp-warden';
 *
 * const warden = await createServer({
 *   options: { apiKeys: [process.env.MY_KEY!], port: 8443 },
 *   mcpServer: () => {
 *     const server = new McpServer({ name: 'mine', version: '1.0.0' });
 *     server.registerTool('ping', { description: 'Replies pong' }, () => ({ content: [{ type: 'text', text: 'pong' }] }));
 *     return server;
 *   },
 * });
 * await warden.start();
 */
export async function createServer(options: WardenServerOptions = {}): Promise<WardenServer> {
  const { config, generatedKey } = withCredential(options);
  const logger = createServerLogger(options, config);
  const now = options.clock ?? Date.now;
  const requestState = createRequestState(config, logger, now);
  // Before anything is started: a server built with SDK v1 is refused here (WARDEN_ERR_UNSUPPORTED_SDK).
  const mcpServer = options.mcpServer === undefined ? undefined : await checkedFactory(withRequestState(options.mcpServer, requestState));
  // Upstream servers instead (refused together with mcpServer; a bad pin lock is refused here).
  const gatewayPart = createGateway(options, config, logger, requestState);
  const gateway = gatewayPart?.gateway;
  const capabilities = createSessionCapabilities(config);
  const late = lateParts();

  const observed = await createObservability(config, logger, now, late);
  gatewayPart?.events.set(observed.events);
  const shared = await createServerSharedState(config, logger, now, observed.metrics, late, options.clock);
  const credentials = await createCredentials(config, options.clock, observed.events, late, shared.sharedState);
  shared.sharedState.shareKeys(credentials.keySource);
  const sessions = late.sessions.set(
    createSessions(config, logger, now, { authenticator: credentials.authenticator, sharing: shared.sharing, handlers: late.handlers, capabilities, gateway }),
  );
  const summaries = createSummaries(config, { generatedKey, observed, shared, credentials, gateway: gateway?.config });
  const engine = createEngine(options, config, logger, now, {
    mcpServer,
    gateway,
    requestState,
    capabilities,
    sessions,
    sharing: shared.sharing,
    changes: shared.changes,
    sharedState: shared.sharedState,
    events: observed.events,
    stats: observed.stats,
    challenges: credentials.challenges,
    configSummary: summaries.configSummary,
    streamOwner: streamOwnerOf(late.sessions),
  });
  late.handler.set(engine.mcp);
  late.handlers.set(engine.handlers);

  const app = await createHttpApp(options, config, logger, { observed, shared, credentials, engine, summaries });
  const parts = { observed, shared, credentials, sessions, engine, gateway };
  installLifecycle(app, parts);
  const processError: WardenServer['processError'] = (kind, error) => {
    logger.error({ err: error, kind }, kind === 'uncaught_exception' ? 'uncaught exception; stopping gracefully' : 'unhandled promise rejection; still serving');
    observed.metrics?.processError(kind);
  };
  return { config, app, logger, generatedKey, keySource: credentials.keySource, notify: engine.listen.notifier, requestState, gateway, processError, ...lifecycle(config, logger, app, parts) };
}
