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
import type { SharedState } from '../shared-state/index.js';
import { Authenticator } from '../security/authenticator.js';
import type { JwtVerifier } from '../security/jwt.js';
import type { AuthorizationServer } from '../security/oauth/authorization-server.js';
import { ConsentTransactions } from '../security/oauth/consent.js';
import type { ClientDocuments } from '../security/oauth/client-documents.js';
import type { SigningKeys } from '../security/oauth/signing-keys.js';
import type { ScopeRule, UpstreamOidc } from '../security/oauth/upstream-oidc.js';
import { WardenError } from '../errors.js';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { z } from 'zod';
import { KeySource } from '../security/key-source.js';
import { generateApiKey } from '../security/keygen.js';
import type { RateLimitStore } from '../store/types.js';
import type { LateParts } from './late.js';
import type { WardenServerOptions } from './types.js';

/** The configuration to serve, with the one-time key when no credential was configured. */
export function withCredential(options: WardenServerOptions): { readonly config: Readonly<Config>; readonly generatedKey: string | undefined } {
  const config = options.config ?? configFromValues(options.options ?? {});
  // Key sign-in (--oauth-issuer) needs a key to sign in with, so it gets the one-time key too.
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
  /** Present with `--oauth-issuer` only. */
  readonly authorizationServer: OwnAuthorizationServer | undefined;
}

/** mcp-warden's own authorization server and the keys its tokens are signed with. */
export interface OwnAuthorizationServer {
  readonly server: AuthorizationServer;
  readonly signingKeys: SigningKeys;
  /** The server's clock (consent pages and registration counts expire by it). */
  readonly now: () => number;
  /** Upstream OpenID Connect sign-in; undefined: key sign-in. */
  readonly upstream: UpstreamOidc | undefined;
  /** Dynamic registrations counted per client address over an hour (shared by the replicas with Redis). */
  readonly registrations: RateLimitStore;
  /** Key sign-in consents between the page and its post (shared by the replicas with Redis). */
  readonly consents: ConsentTransactions;
}

/** Reads and checks the upstream sign-in rules file at start (a config error when invalid). */
function readScopeRules(path: string): ScopeRule[] {
  const rule = z
    .object({ subject: z.string().min(1).optional(), emailDomain: z.string().regex(/^[A-Za-z0-9.-]+$/).optional(), group: z.string().min(1).optional(), allowMissingEmailVerified: z.boolean().optional(), scopes: z.array(z.string().regex(/^[\x21-\x7e]+$/)).min(1) })
    .strict()
    .refine((item) => item.subject !== undefined || item.emailDomain !== undefined || item.group !== undefined, { error: 'a rule needs subject, emailDomain or group' })
    .refine((item) => item.allowMissingEmailVerified === undefined || item.emailDomain !== undefined, { error: 'allowMissingEmailVerified goes with emailDomain' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new WardenError('WARDEN_ERR_CONFIG', { message: `Invalid configuration: --oauth-upstream-rules ${path}: cannot be read as JSON` });
  }
  const result = z.array(rule).min(1).max(1000).safeParse(parsed);
  if (!result.success) throw new WardenError('WARDEN_ERR_CONFIG', { message: `Invalid configuration: --oauth-upstream-rules ${path}: ${result.error.issues[0]?.message ?? 'invalid'} at ${result.error.issues[0]?.path.join('.') ?? ''}` });
  return result.data;
}

/** The window of the dynamic registration limit (`registrationsPerHour`). */
const REGISTRATION_WINDOW_MS = 3_600_000;
/** Client ID Metadata Documents (on unless `--no-oauth-cimd`), with the extra CA certificates read now. */
async function createClientDocuments(config: NonNullable<Config['authorizationServer']>['clientDocuments'], now: () => number): Promise<ClientDocuments | undefined> {
  if (config === undefined) return undefined;
  let ca: string[] | undefined;
  if (config.caFile !== undefined) {
    try {
      ca = [...tls.rootCertificates, readFileSync(config.caFile, 'utf8')];
    } catch {
      throw new WardenError('WARDEN_ERR_CONFIG', { message: `Invalid configuration: --oauth-cimd-ca-file ${config.caFile}: cannot be read` });
    }
  }
  const { ClientDocuments } = await import('../security/oauth/client-documents.js');
  return new ClientDocuments({ allowLoopback: config.allowLoopback, ca, now });
}

/**
 * With `--oauth-issuer`: signing keys and grants in Redis when it is configured (shared by the
 * replicas), else keys in the key file (or memory) and grants in memory; then the server.
 */
async function createOwnAuthorizationServer(config: Readonly<Config>, keySource: KeySource, now: () => number, shared: SharedState): Promise<OwnAuthorizationServer | undefined> {
  const own = config.authorizationServer;
  if (own === undefined) return undefined;
  const [{ AuthorizationServer, DEFAULT_LIFETIMES }, { SigningKeys, FileSigningKeyStore, MemorySigningKeyStore }, { MemoryOAuthStore }] = await Promise.all([
    import('../security/oauth/authorization-server.js'),
    import('../security/oauth/signing-keys.js'),
    import('../store/memory/oauth-store.js'),
  ]);
  const inRedis = await shared.oauthStores(now);
  const store = inRedis?.signingKeys ?? (own.keyFile === undefined ? new MemorySigningKeyStore() : new FileSigningKeyStore(own.keyFile));
  // A retired key stays published while tokens it signed can still be accepted (lifetime plus leeway).
  const signingKeys = await SigningKeys.open({ store, overlapMs: (DEFAULT_LIFETIMES.accessToken + 60) * 1000, now });
  const clientDocuments = await createClientDocuments(own.clientDocuments, now);
  const server = new AuthorizationServer({ issuer: own.issuer, scopePrefix: own.scopePrefix, keys: signingKeys, store: inRedis?.store ?? new MemoryOAuthStore(), keyRing: () => keySource.ring, clientDocuments, now });
  const upstreamConfig = own.upstream;
  const upstream =
    upstreamConfig === undefined
      ? undefined
      : new (await import('../security/oauth/upstream-oidc.js')).UpstreamOidc({
          ...upstreamConfig,
          redirectUri: `${own.issuer}/oauth/callback`,
          rules: readScopeRules(upstreamConfig.rulesFile),
          pending: inRedis?.pendingSignIns ?? new (await import('../store/memory/pending-sign-ins.js')).MemoryPendingSignIns(),
          now,
        });
  // One count for all replicas with Redis (limiter `register`), per process without.
  const registrations = shared.rateLimitStore('register', { windowMs: REGISTRATION_WINDOW_MS, maxLimit: 1000, maxClients: 10_000, now });
  const consents = new ConsentTransactions({ store: inRedis?.consents, csrf: inRedis?.consentCsrf, now });
  return { server, signingKeys, now, upstream, registrations, consents };
}

/** Builds the credentials; throws KeysFileError (a config error) when the keys file is missing or invalid at start. */
export async function createCredentials(
  config: Readonly<Config>,
  clock: (() => number) | undefined,
  events: SecurityEvents,
  late: Pick<LateParts, 'sessions'>,
  shared: SharedState,
): Promise<Credentials> {
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
  const own = await createOwnAuthorizationServer(config, keySource, now, shared);
  const JwtVerifierClass = oauth === undefined && own === undefined ? undefined : (await import('../security/jwt.js')).JwtVerifier;
  const jwt =
    JwtVerifierClass === undefined
      ? undefined
      : own === undefined
        ? new JwtVerifierClass({ ...(oauth as NonNullable<typeof oauth>), now: clock })
        : // Our own tokens meet the same verification as any authorization server's, then the key binding.
          new JwtVerifierClass({
            keys: own.signingKeys.verifyKey,
            issuer: own.server.issuer,
            audience: own.server.resource,
            algorithms: ['ES256'],
            scopePrefix: config.authorizationServer?.scopePrefix ?? 'mcp:',
            // RFC 9068 §2.1: only our access tokens (typed at+jwt, ACCESS_TOKEN_TYPE), not any other JWT our key signed.
            typ: 'at+jwt',
            bind: (payload, principal) => own.server.bindToKey(payload, principal),
            now: clock,
          });
  const authenticator = new Authenticator({ keys: () => keySource.ring, jwt, now, tokensBoundToKeys: own !== undefined });
  const resourceMetadataUrl =
    jwt === undefined ? undefined : new URL(METADATA_PATH, config.publicUrl ?? oauth?.audience ?? `http://${config.host}:${config.port}`).href;
  const challenges = createChallenges({ realm: 'mcp-warden', resourceMetadataUrl, scopePrefix: oauth?.scopePrefix ?? config.authorizationServer?.scopePrefix });
  return { keySource, jwt, authenticator, challenges, authorizationServer: own };
}

/** The protected resource metadata (RFC 9728), served in OAuth mode only. */
export function oauthMetadataFor(config: Readonly<Config>, jwt: JwtVerifier | undefined, catalog: ToolCatalog, own?: OwnAuthorizationServer): (() => Promise<ProtectedResourceMetadata>) | undefined {
  if (own !== undefined && jwt !== undefined) {
    // Our own authorization server: the resource is /mcp, the tokens' audience (RFC 8707).
    return async () => ({
      resource: own.server.resource,
      authorization_servers: [own.server.issuer],
      scopes_supported: jwt.scopesSupported((await catalog.list()).map((tool) => tool.name)),
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-warden',
    });
  }
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
