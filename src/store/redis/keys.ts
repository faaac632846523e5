/**
 * @module store/redis/keys
 * Every Redis key and channel mcp-warden uses, built from one prefix (`--redis-prefix`, whose
 * default `mcpw:` is defined in the option table), so several deployments can share a Redis
 * and an operator can find (or flush) ours.
 */

export interface RedisKeys {
  /** Rolling-window counters of one client in one limiter (`ip`, `key`, `authfail`). */
  rateLimit(limiter: string, client: string): string;
  session(id: string): string;
  /** Recent events of one SSE stream (for Last-Event-ID resumption on any replica). */
  stream(streamId: string): string;
  /** Accounting of the event store's byte budgets (see store/redis/event-store). */
  readonly streamIndex: string;
  readonly streamSizes: string;
  readonly streamOwners: string;
  readonly principalBytes: string;
  readonly streamBytes: string;
  /** One principal's streams, by last activity. */
  principalStreams(principal: string): string;
  /** Key restrictions (revocations, expiries) published by the replicas: hash id → JSON. */
  readonly keyRestrictions: string;
  ban(client: string): string;
  readonly banPattern: string;
  /** Live replicas: a sorted set of replica id → expiry (heartbeats). */
  readonly replicas: string;
  /** A random id written once into an empty Redis: when it changes, Redis lost its data. */
  readonly boot: string;
  /** The replicas' event channel. */
  readonly events: string;
  /** The OAuth authorization server's records (see store/redis/oauth-store). */
  oauthClient(clientId: string): string;
  oauthCode(digest: string): string;
  oauthFamily(familyId: string): string;
  oauthRevoked(familyId: string): string;
  oauthRefresh(digest: string): string;
  /** The sealed signing keys and the current key's id (see store/redis/signing-key-store). */
  readonly oauthSigningKeys: string;
  /** A pending upstream OpenID Connect sign-in, by the digest of its state (see store/redis/pending-sign-ins). */
  oauthSignIn(stateDigest: string): string;
  /** A pending consent of key sign-in, by its transaction id (see store/redis/consents). */
  oauthConsent(id: string): string;
  /** A one-time sign-in code an operator made, by digest (see store/redis/oauth-store). */
  oauthSignInCode(digest: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    rateLimit: (limiter, client) => `${prefix}rl:${limiter}:${client}`,
    session: (id) => `${prefix}session:${id}`,
    stream: (streamId) => `${prefix}sse:${streamId}`,
    streamIndex: `${prefix}sseidx:streams`,
    streamSizes: `${prefix}sseidx:sizes`,
    streamOwners: `${prefix}sseidx:owners`,
    principalBytes: `${prefix}sseidx:principals`,
    streamBytes: `${prefix}sseidx:bytes`,
    principalStreams: (principal) => `${prefix}sseidx:p:${principal}`,
    keyRestrictions: `${prefix}keys:restrictions`,
    ban: (client) => `${prefix}ban:${client}`,
    banPattern: `${prefix}ban:*`,
    replicas: `${prefix}replicas`,
    boot: `${prefix}boot`,
    events: `${prefix}events`,
    oauthClient: (clientId) => `${prefix}oauth:client:${clientId}`,
    oauthCode: (digest) => `${prefix}oauth:code:${digest}`,
    oauthFamily: (familyId) => `${prefix}oauth:fam:${familyId}`,
    oauthRevoked: (familyId) => `${prefix}oauth:revoked:${familyId}`,
    oauthRefresh: (digest) => `${prefix}oauth:rt:${digest}`,
    oauthSigningKeys: `${prefix}oauth:signing-keys`,
    oauthSignIn: (stateDigest) => `${prefix}oauth:signin:${stateDigest}`,
    oauthConsent: (id) => `${prefix}oauth:consent:${id}`,
    oauthSignInCode: (digest) => `${prefix}oauth:otc:${digest}`,
  };
}
