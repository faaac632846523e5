/**
 * @module store/memory/oauth-store
 * The in-process {@link OAuthStore}: maps with expiry, swept as they are used, each bounded
 * (a registration flood or a flood of abandoned sign-ins cannot grow memory without limit:
 * past the cap the oldest entry goes). Clients are kept in two lists, never used and used (at
 * the token endpoint), each least recently used first: past the cap a never-used registration
 * goes first, so a registration flood evicts its own kind before a client in use. Revoked
 * families are remembered until they expire.
 */

import type { ClientRecord, CodeRecord, CodeTake, FamilyRecord, OAuthStore, RefreshLookup, SignInCodeRecord, SignInCodeTake } from '../../security/oauth/store.js';

export interface MemoryOAuthStoreOptions {
  /** Caps per kind of record (default 10,000 clients, 10,000 codes, 100,000 refresh tokens). */
  readonly maxClients?: number;
  readonly maxCodes?: number;
  readonly maxRefreshTokens?: number;
  /** One-time sign-in codes held at most (default 1,000; only operators make them). */
  readonly maxSignInCodes?: number;
}

/** A redeemed code, kept to recognise a replay. */
interface SpentCode {
  readonly spent: true;
  familyId: string | undefined;
  replayed: boolean;
  readonly expiresAt: number;
}

/** How long a spent code is remembered after it would have expired. */
const SPENT_CODE_MEMORY_MS = 600_000;

interface RefreshEntry {
  readonly familyId: string;
  readonly expiresAt: number;
  used: boolean;
}

/** Sets `key` in a bounded map: at the cap, the oldest insertion goes first. */
function boundedSet<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  while (map.size >= max) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
  }
  map.set(key, value);
}

export class MemoryOAuthStore implements OAuthStore {
  /** Registered and never used at the token endpoint, oldest first. */
  readonly #newClients = new Map<string, ClientRecord>();
  /** Used at the token endpoint, least recently used first. */
  readonly #usedClients = new Map<string, ClientRecord>();
  readonly #codes = new Map<string, CodeRecord | SpentCode>();
  readonly #families = new Map<string, FamilyRecord>();
  readonly #refresh = new Map<string, RefreshEntry>();
  readonly #revoked = new Map<string, number>();
  readonly #signInCodes = new Map<string, SignInCodeRecord & { spent: boolean }>();
  readonly #max: Required<MemoryOAuthStoreOptions>;

  constructor(options: MemoryOAuthStoreOptions = {}) {
    this.#max = { maxClients: options.maxClients ?? 10_000, maxCodes: options.maxCodes ?? 10_000, maxRefreshTokens: options.maxRefreshTokens ?? 100_000, maxSignInCodes: options.maxSignInCodes ?? 1000 };
  }

  async putClient(client: ClientRecord): Promise<void> {
    this.#usedClients.delete(client.clientId);
    this.#newClients.delete(client.clientId);
    while (this.#newClients.size + this.#usedClients.size >= this.#max.maxClients) {
      const victims = this.#newClients.size > 0 ? this.#newClients : this.#usedClients;
      victims.delete(victims.keys().next().value as string);
    }
    this.#newClients.set(client.clientId, client);
  }

  async getClient(clientId: string, now: number, touchUntil?: number): Promise<ClientRecord | undefined> {
    const client = this.#usedClients.get(clientId) ?? this.#newClients.get(clientId);
    if (client === undefined) return undefined;
    if (!(now < client.expiresAt)) {
      this.#usedClients.delete(clientId);
      this.#newClients.delete(clientId);
      return undefined;
    }
    if (touchUntil === undefined) return client;
    // A use: the client moves to the end of the used list (least recently used goes first).
    const touched = touchUntil > client.expiresAt ? { ...client, expiresAt: touchUntil } : client;
    this.#newClients.delete(clientId);
    this.#usedClients.delete(clientId);
    this.#usedClients.set(clientId, touched);
    return touched;
  }

  async putCode(digest: string, code: CodeRecord): Promise<void> {
    boundedSet(this.#codes, digest, code, this.#max.maxCodes);
  }

  async takeCode(digest: string, now: number): Promise<CodeTake> {
    const held = this.#codes.get(digest);
    if (held === undefined) return { kind: 'unknown' };
    if ('spent' in held) {
      if (!(now < held.expiresAt)) {
        this.#codes.delete(digest);
        return { kind: 'unknown' };
      }
      held.replayed = true;
      return { kind: 'spent', familyId: held.familyId };
    }
    if (!(now < held.expiresAt)) {
      this.#codes.delete(digest);
      return { kind: 'unknown' };
    }
    this.#codes.set(digest, { spent: true, familyId: undefined, replayed: false, expiresAt: held.expiresAt + SPENT_CODE_MEMORY_MS });
    return { kind: 'fresh', code: held };
  }

  async bindCode(digest: string, familyId: string): Promise<boolean> {
    const held = this.#codes.get(digest);
    if (held === undefined || !('spent' in held)) return true;
    held.familyId = familyId;
    return !held.replayed;
  }

  async putFamily(family: FamilyRecord): Promise<void> {
    // Families are bounded through their refresh tokens (one live token each).
    this.#families.set(family.familyId, family);
  }

  async putRefresh(digest: string, familyId: string, expiresAt: number): Promise<void> {
    boundedSet(this.#refresh, digest, { familyId, expiresAt, used: false }, this.#max.maxRefreshTokens);
  }

  async peekRefresh(digest: string, now: number): Promise<RefreshLookup> {
    return this.#lookupRefresh(digest, now, false);
  }

  async useRefresh(digest: string, now: number): Promise<RefreshLookup> {
    return this.#lookupRefresh(digest, now, true);
  }

  #lookupRefresh(digest: string, now: number, use: boolean): RefreshLookup {
    this.#sweep(now);
    const entry = this.#refresh.get(digest);
    const family = entry === undefined ? undefined : this.#families.get(entry.familyId);
    if (entry === undefined || family === undefined || !(now < entry.expiresAt) || !(now < family.expiresAt)) return { kind: 'unknown' };
    if (this.#revoked.has(family.familyId)) return { kind: 'revoked', family };
    if (entry.used) return { kind: 'reused', family };
    if (use) entry.used = true;
    return { kind: 'fresh', family };
  }

  async revokeFamily(familyId: string): Promise<void> {
    const family = this.#families.get(familyId);
    // Kept until the family would have ended anyway: its access tokens end before then.
    this.#revoked.set(familyId, family?.expiresAt ?? Number.POSITIVE_INFINITY);
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return this.#revoked.has(familyId);
  }

  async putSignInCode(digest: string, code: SignInCodeRecord): Promise<void> {
    boundedSet(this.#signInCodes, digest, { ...code, spent: false }, this.#max.maxSignInCodes);
  }

  async takeSignInCode(digest: string, now: number): Promise<SignInCodeTake> {
    const held = this.#signInCodes.get(digest);
    if (held === undefined) return { kind: 'unknown' };
    const code = { keyId: held.keyId, issuedBy: held.issuedBy, expiresAt: held.expiresAt };
    if (!(now < held.expiresAt)) {
      // Told once, then forgotten (as Redis collects it).
      this.#signInCodes.delete(digest);
      return held.spent ? { kind: 'unknown' } : { kind: 'expired', code };
    }
    if (held.spent) return { kind: 'spent', code };
    held.spent = true;
    return { kind: 'fresh', code };
  }

  #sweptAt = Number.NEGATIVE_INFINITY;

  /** Drops expired refresh tokens and families (and the revocation marks of ended families), at most once a minute. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [digest, entry] of this.#refresh) if (!(now < entry.expiresAt)) this.#refresh.delete(digest);
    for (const [id, family] of this.#families) {
      if (!(now < family.expiresAt)) {
        this.#families.delete(id);
        this.#revoked.delete(id);
      }
    }
  }
}
