/**
 * @module mcp-warden
 * The public library API. Named exports only.
 *
 * @example
 * import { createServer } from 'mcp-warden';
 * const warden = await createServer({ options: { apiKeys: [process.env.MY_KEY!] } });
 * await warden.start();
 */

export { createServer, type WardenServer, type WardenServerOptions, type FactoryContext, type WardenServerFactory } from './server.js';
export { loadConfig, configFromValues, ConfigError, type Config, type ConfigInput } from './config/load.js';
export { OPTION_SPECS, type LogLevel, type TrustProxy } from './config/options.js';
export { ERROR_CODES, WardenError, isWardenError, type WardenErrorCode } from './errors.js';
export { KeyRing, keyFingerprint } from './security/api-keys.js';
export type { Principal } from './security/identity.js';
export { generateApiKey } from './security/keygen.js';
export type { ServerFactory, SessionContext, ServerLike } from './mcp/sessions.js';
export type { RequestStateTools } from './mcp/request-state-hook.js';
export type { RateLimitStore, RateLimitDecision } from './store/types.js';
export { MemoryRateLimitStore } from './store/memory/rate-limit.js';
export { SUPPORTED_PROTOCOL_VERSIONS, LATEST_PROTOCOL_VERSION } from './mcp/protocol-versions.js';
export { parseGatewayConfig, type GatewayConfig, type UpstreamConfig, type EnvMap } from './gateway/config.js';
export { Gateway, type GatewayOptions, type GatewayEventSink } from './gateway/router.js';
