/**
 * @module http/fastify-types
 * What mcp-warden adds to Fastify's request and route config.
 */

import type { Principal } from '../security/identity.js';

/** How a request fared at authentication, for the log line. */
export type AuthOutcome = 'ok' | 'missing' | 'invalid' | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on protected routes. */
    principal: Principal | null;
    authOutcome: AuthOutcome;
    /** `<public code>:<reason>` when the request was refused; logged, never sent. */
    failure: string | null;
    /** MCP method(s) and tool of a POST /mcp, for the log line. */
    mcpMethod: string | null;
    mcpTool: string | null;
  }
  interface FastifyContextConfig {
    /** Error body shape: JSON-RPC on the MCP endpoint. */
    surface?: 'mcp' | 'api';
    /**
     * A liveness probe route (/health): exempt from the rate limit and the Host check, since
     * orchestrators probe by pod IP and must never be throttled into restarting us.
     */
    probe?: boolean;
  }
}

export {};
