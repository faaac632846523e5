/**
 * @module http/routes/oauth-metadata
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), served when bearer JWTs are accepted, at
 * `/.well-known/oauth-protected-resource` and its `/mcp`-suffixed form (RFC 9728 §3.1: the
 * resource's path is appended). MCP clients find the authorization server here.
 */

import type { FastifyInstance } from 'fastify';

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly resource_name: string;
}

export const METADATA_PATH = '/.well-known/oauth-protected-resource';

export function registerOAuthMetadata(app: FastifyInstance, metadata: () => Promise<ProtectedResourceMetadata>): void {
  const handler = async (): Promise<ProtectedResourceMetadata> => metadata();
  app.get(METADATA_PATH, handler);
  app.get(`${METADATA_PATH}/mcp`, handler);
}
