/**
 * @module server/gateway
 * The gateway part of the composition root: when upstream MCP servers are configured (the
 * `gateway` option of `createServer`, else the config file's `gateway`/`mcpServers` or the `--`
 * one-liner), a {@link Gateway} over them replaces the built-in tools on `/mcp` and serves each
 * upstream alone on `/mcp/<name>`. Its security events reach the audit trail, the log and the
 * metrics once they are built (`SecurityEvents`, bound late: events only happen once serving).
 */

import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { RequestStateTools } from '../mcp/request-state-hook.js';
import { WardenError } from '../errors.js';
import { Gateway } from '../gateway/router.js';
import type { SecurityEvents } from '../observability/security-events.js';
import { Late } from './late.js';
import type { WardenServerOptions } from './types.js';

export interface GatewayPart {
  readonly gateway: Gateway;
  /** Where its events go, bound once the observability is built. */
  readonly events: Late<SecurityEvents>;
}

/**
 * The gateway to serve, if any.
 * @throws WardenError `WARDEN_ERR_CONFIG` when both `mcpServer` and a gateway are given, or the pin lock is invalid.
 */
export function createGateway(options: WardenServerOptions, config: Readonly<Config>, logger: Logger, requestState: RequestStateTools): GatewayPart | undefined {
  const gatewayConfig = options.gateway ?? config.gateway;
  if (gatewayConfig === undefined) return undefined;
  if (options.mcpServer !== undefined) {
    throw new WardenError('WARDEN_ERR_CONFIG', { message: 'Invalid configuration: give mcpServer (your own server) or a gateway (upstream servers), not both' });
  }
  const events = new Late<SecurityEvents>();
  const gateway = new Gateway(gatewayConfig, {
    logger: logger.child({ component: 'gateway' }),
    // Children inherit only PATH, HOME, LANG, LC_*, TZ, TMPDIR from it (gateway/child-transport).
    parentEnv: process.env,
    events: {
      pinTransition: (transition) => events.get()?.pinTransition(transition),
      secretFound: (event) => events.get()?.secretFound(event),
    },
    // A principal's sessionless connections live as long as an idle session would.
    idleOwnerMs: config.sessions.ttl * 1000,
    now: options.clock,
    // Modern clients answer upstream requests through input_required, as long as a requestState lives.
    requestState,
    inputTtlMs: config.requestState.ttl * 1000,
  });
  return { gateway, events };
}
