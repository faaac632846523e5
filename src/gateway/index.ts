/**
 * @module gateway
 * The gateway (issue 13, design note §1): configuration, the stdio child transport, upstream
 * connections and their pools (the upstream layer), and on top of them the router that serves
 * them through mcp-warden ({@link Gateway}), tool pinning and secret scanning.
 */

export {
  parseGatewayConfig,
  expand,
  UPSTREAM_NAME,
  UPSTREAM_DEFAULTS,
  GATEWAY_DEFAULTS,
  prefixCollisions,
  type PinLockConfig,
  type EnvMap,
  type GatewayConfig,
  type Isolation,
  type RemoteUpstreamConfig,
  type StdioUpstreamConfig,
  type UpstreamConfig,
  type UpstreamLimits,
  type UpstreamOAuthConfig,
  type VersionNegotiation,
} from './config.js';
export { ChildTransport, childEnv, BASE_ENV_KEYS, RESULT_TOO_LARGE, type ChildTransportOptions } from './child-transport.js';
export { ClientCredentialsTokens, upstreamFetch, type UpstreamFetch } from './remote.js';
export {
  Upstream,
  UpstreamConnection,
  upstreamError,
  BACKOFF,
  type CallOptions,
  type ConnectionOptions,
  type ConnectionState,
  type UpstreamDeps,
} from './upstream.js';
export { ChildBudget, UpstreamPool, type PoolOptions } from './pool.js';
export { realTimers, delay, type Timers } from './timers.js';
export { Gateway, type GatewayEventSink, type GatewayOptions } from './router.js';
export { View, UriRoutes, type Routed } from './names.js';
export type { Caller, ClientLink, SecretEvent } from './operations.js';
export { upstreamToolLister, type ListerOptions } from './lister.js';
