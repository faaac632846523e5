/**
 * @module security/oauth/store
 * What the authorization server remembers, behind one narrow interface so that a Redis
 * implementation (store/redis/oauth-store) shares it between replicas: registered clients, authorization codes
 * (single use), refresh token families (rotation with reuse detection, OAuth 2.1 §4.3.1 and
 * RFC 9700 §4.14.2), and the one-time sign-in codes an operator makes for an API key (single use). Secrets are stored as SHA-256 digests (base64url), never as issued.
 * Every record has an expiry; implementations drop what has expired.
 */

/** A registered client (RFC 7591). Public clients only: PKCE instead of a secret. */
export interface ClientRecord {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly redirectUris: readonly string[];
  readonly createdAt: number;
  /** Dropped when unused until then; each use moves it forward. */
  readonly expiresAt: number;
}

/** An issued authorization code, by the digest of the code. */
export interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** The API key that signed in (its id in the key ring). */
  readonly keyId: string;
  readonly expiresAt: number;
}

/** A refresh token family: one sign-in, all the refresh tokens rotated from it. */
export interface FamilyRecord {
  readonly familyId: string;
  readonly clientId: string;
  readonly keyId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** Absolute end of the family, whatever the rotations. */
  readonly expiresAt: number;
}

/** What redeeming a refresh token found. */
export type RefreshLookup =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'revoked'; readonly family: FamilyRecord }
  /** The token was already used: the caller revokes the family (reuse detection). */
  | { readonly kind: 'reused'; readonly family: FamilyRecord }
  | { readonly kind: 'fresh'; readonly family: FamilyRecord };

/**
 * What taking a code found. A spent code is remembered for a while: presented again, it revokes
 * the grant its first redemption made (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).
 */
export type CodeTake =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'fresh'; readonly code: CodeRecord }
  /** Already redeemed; `familyId` is the grant it made (undefined while that redemption is still running). */
  | { readonly kind: 'spent'; readonly familyId: string | undefined };

/**
 * A one-time sign-in code (by the digest of its canonical form): typed on the consent page
 * instead of an API key, it signs in as the key it names, once, until it expires.
 */
export interface SignInCodeRecord {
  /** The API key the code signs in as (its id in the key ring). */
  readonly keyId: string;
  /** The operator credential that made it (for the audit trail). */
  readonly issuedBy: string;
  readonly expiresAt: number;
}

/**
 * What taking a sign-in code found. An expired or spent code is told apart from an unknown one
 * for the audit trail only (the user sees one refusal): a spent code presented again is
 * remembered until it would have expired.
 */
export type SignInCodeTake =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'expired' | 'spent' | 'fresh'; readonly code: SignInCodeRecord };

export interface OAuthStore {
  putClient(client: ClientRecord): Promise<void>;
  /** The client, its expiry moved to `touchUntil` when given; undefined when unknown or expired. */
  getClient(clientId: string, now: number, touchUntil?: number): Promise<ClientRecord | undefined>;
  putCode(digest: string, code: CodeRecord): Promise<void>;
  /** Returns the code and marks it spent (single use, atomically); an expired code is unknown. */
  takeCode(digest: string, now: number): Promise<CodeTake>;
  /**
   * Records the grant a spent code made. False when the code was presented again meanwhile:
   * the caller revokes that grant.
   */
  bindCode(digest: string, familyId: string): Promise<boolean>;
  putFamily(family: FamilyRecord): Promise<void>;
  /** Adds a refresh token (by digest) to its family, valid until `expiresAt`. */
  putRefresh(digest: string, familyId: string, expiresAt: number): Promise<void>;
  /** Looks a refresh token up without marking it used (the checks before a refresh; revocation). */
  peekRefresh(digest: string, now: number): Promise<RefreshLookup>;
  /** Looks a refresh token up and marks it used (atomically): a second call finds it `reused`. */
  useRefresh(digest: string, now: number): Promise<RefreshLookup>;
  revokeFamily(familyId: string): Promise<void>;
  /**
   * True when the family was revoked (access tokens carry their family and are refused then).
   * Asynchronous: with Redis, a revocation made on another replica counts at once.
   */
  isFamilyRevoked(familyId: string): Promise<boolean>;
  putSignInCode(digest: string, code: SignInCodeRecord): Promise<void>;
  /** Returns the code and marks it spent (single use, atomically across replicas). */
  takeSignInCode(digest: string, now: number): Promise<SignInCodeTake>;
}
