/**
 * @module gateway
 * The gateway's upstream layer (issue 13, design note §1): configuration, the stdio child
 * transport, upstream connections and their pools. The router, pinning and secret scanning
 * build on these exports.
 */

export {
  parseGatewayConfig,
  expand,
  UPSTREAM_NAME,
  UPSTREAM_DEFAULTS,
  GATEWAY_DEFAULTS,
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
