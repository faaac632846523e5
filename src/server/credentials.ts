/**
 * @module server/credentials
 * Who may call: the configured keys (or the one-time key generated for a loopback server with
 * none), the keys file source, the JWT verifier (OAuth mode), the authenticator over both, the
 * `WWW-Authenticate` challenges and the protected resource metadata.
 */

import { configFromValues, type Config } from '../config/load.js';
import { createChallenges, type Challenges } from '../http/challenge.js';
import { METADATA_PATH, type ProtectedResourceMetadata } from '../http/routes/oauth-metadata.js';
import type { ToolCatalog } from '../mcp/catalog.js';
import type { SecurityEvents } from '../observability/security-events.js';
import { Authenticator } from '../security/authenticator.js';
import type { JwtVerifier } from '../security/jwt.js';
import { KeySource } from '../security/key-source.js';
import { generateApiKey } from '../security/keygen.js';
import type { LateParts } from './late.js';
import type { WardenServerOptions } from './types.js';

/** The configuration to serve, with the one-time key when no credential was configured. */
export function withCredential(options: WardenServerOptions): { readonly config: Readonly<Config>; readonly generatedKey: string | undefined } {
  const config = options.config ?? configFromValues(options.options ?? {});
  if (config.apiKeys.length === 0 && config.keysFile === undefined && config.oauth === undefined) {
    // Secure by default: loopback without a credential gets a one-time key, never an open server.
    const generatedKey = generateApiKey();
    return { config: Object.freeze({ ...config, apiKeys: [generatedKey] }), generatedKey };
  }
  return { config, generatedKey: undefined };
}

export interface Credentials {
  readonly keySource: KeySource;
  /** Present in OAuth mode only. */
  readonly jwt: JwtVerifier | undefined;
  readonly authenticator: Authenticator;
  readonly challenges: Challenges;
}

/** Builds the credentials; throws KeysFileError (a config error) when the keys file is missing or invalid at start. */
export async function createCredentials(config: Readonly<Config>, clock: (() => number) | undefined, events: SecurityEvents, late: Pick<LateParts, 'sessions'>): Promise<Credentials> {
  const now = clock ?? Date.now;
  const keySource = new KeySource({
    configKeys: config.apiKeys,
    keysFile: config.keysFile,
    now,
    onReload: (event) => {
      events.keysReload(event);
      // Revocations (local file, SIGHUP, or another replica through Redis) close sessions now.
      if (event.ok) void late.sessions.get()?.revalidate();
    },
  });
  // jose is loaded only in OAuth mode.
  const oauth = config.oauth;
  const jwt = oauth === undefined ? undefined : new (await import('../security/jwt.js')).JwtVerifier({ ...oauth, now: clock });
  const authenticator = new Authenticator({ keys: () => keySource.ring, jwt, now });
  const resourceMetadataUrl =
    jwt === undefined ? undefined : new URL(METADATA_PATH, config.publicUrl ?? oauth?.audience ?? `http://${config.host}:${config.port}`).href;
  const challenges = createChallenges({ realm: 'mcp-warden', resourceMetadataUrl, scopePrefix: oauth?.scopePrefix });
  return { keySource, jwt, authenticator, challenges };
}

/** The protected resource metadata (RFC 9728), served in OAuth mode only. */
export function oauthMetadataFor(config: Readonly<Config>, jwt: JwtVerifier | undefined, catalog: ToolCatalog): (() => Promise<ProtectedResourceMetadata>) | undefined {
  const oauth = config.oauth;
  return jwt === undefined || oauth === undefined
    ? undefined
    : async () => ({
        resource: oauth.audience,
        authorization_servers: [oauth.issuer],
        scopes_supported: jwt.scopesSupported((await catalog.list()).map((tool) => tool.name)),
        bearer_methods_supported: ['header'],
        resource_name: 'mcp-warden',
      });
}
