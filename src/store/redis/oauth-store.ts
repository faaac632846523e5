/**
 * @module store/redis/oauth-store
 * The authorization server's records in Redis ({@link OAuthStore}), so that every replica
 * redeems the codes, rotates the refresh tokens and knows the clients any replica issued or
 * registered (issue 14, Must 6). Each record expires in Redis with its own expiry (plus a
 * minute of slack: the records' own `expiresAt` decides, the TTL only collects them).
 *
 * Trust: whoever can write Redis must not be able to mint a grant. Every record that grants
 * something (client, code, family, refresh token, the grant a spent code made) is sealed with
 * the shared secret over its content and its key name (store/redis/sealed-records); a record
 * that fails its check does not exist. What a Redis writer can still do is deny service
 * (delete records, un-spend a code it also holds the secret of); it cannot create a grant
 * because codes and refresh tokens are stored as digests of secrets it never sees.
 *
 * Single use is atomic in Redis (one Lua script each): taking a code marks it spent and
 * remembers replays; using a refresh token marks it used and returns whether it already was,
 * so two replicas racing on one token get exactly one `fresh`; taking a one-time sign-in code
 * marks it spent the same way.
 */

import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ClientRecord, CodeRecord, CodeTake, FamilyRecord, OAuthStore, RefreshLookup, SignInCodeRecord, SignInCodeTake } from '../../security/oauth/store.js';
import type { RedisKeys } from './keys.js';
import type { RecordSeal } from './sealed-records.js';
import { runScript, type LuaScript } from './scripts.js';

/** How long a spent code is remembered after it would have expired (as the memory store). */
const SPENT_CODE_MEMORY_MS = 600_000;
/** Added to every TTL: Redis collects a record a while after its own expiry has ended it. */
const TTL_SLACK_MS = 60_000;
/** How long a revocation of a family whose record is gone is kept (the longest refresh lifetime we issue, 30 days, plus a day). */
const ORPHAN_REVOCATION_MS = 31 * 86_400_000;

/**
 * takeCode: KEYS[1] the code hash; ARGV now, spent memory ms, slack ms.
 * Returns {'unknown'} | {'fresh', rec} | {'spent', sealedFamily or ''}.
 */
const TAKE_CODE = `
local h = redis.call('HMGET', KEYS[1], 'rec', 'exp', 'spent', 'fam')
if not h[1] or not h[2] then return {'unknown'} end
local now = tonumber(ARGV[1])
local exp = tonumber(h[2])
if h[3] == '1' then
  if now >= exp + tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return {'unknown'} end
  redis.call('HSET', KEYS[1], 'replayed', '1')
  return {'spent', h[4] or ''}
end
if now >= exp then redis.call('DEL', KEYS[1]) return {'unknown'} end
redis.call('HSET', KEYS[1], 'spent', '1')
redis.call('PEXPIRE', KEYS[1], math.max(1, exp + tonumber(ARGV[2]) - now + tonumber(ARGV[3])))
return {'fresh', h[1]}
`;
const TAKE_CODE_SCRIPT: LuaScript = { name: 'wardenOAuthTakeCode', keys: 1, lua: TAKE_CODE };

/** bindCode: KEYS[1] the code hash; ARGV sealed family. 1 when bound with no replay, 0 when replayed. */
const BIND_CODE = `
if redis.call('HGET', KEYS[1], 'spent') ~= '1' then return 1 end
redis.call('HSET', KEYS[1], 'fam', ARGV[1])
if redis.call('HGET', KEYS[1], 'replayed') == '1' then return 0 end
return 1
`;
const BIND_CODE_SCRIPT: LuaScript = { name: 'wardenOAuthBindCode', keys: 1, lua: BIND_CODE };

/** useRefresh: KEYS[1] the token hash. Returns false when absent, else {fam, exp, mac, previously used}. */
const USE_REFRESH = `
local h = redis.call('HMGET', KEYS[1], 'fam', 'exp', 'mac', 'used')
if not h[1] then return false end
redis.call('HSET', KEYS[1], 'used', '1')
return {h[1], h[2] or '', h[3] or '', h[4] or '0'}
`;
const USE_REFRESH_SCRIPT: LuaScript = { name: 'wardenOAuthUseRefresh', keys: 1, lua: USE_REFRESH };

const scopes = z.array(z.string().max(256)).max(256);
const clientSchema = z.strictObject({
  clientId: z.string().min(1).max(2000),
  clientName: z.string().max(200).optional(),
  redirectUris: z.array(z.string().max(2000)).max(10),
  createdAt: z.number(),
  expiresAt: z.number(),
});
const codeSchema = z.strictObject({
  clientId: z.string().max(2000),
  redirectUri: z.string().max(2000),
  codeChallenge: z.string().max(128),
  resource: z.string().max(2000),
  scopes,
  keyId: z.string().max(256),
  expiresAt: z.number(),
});
const familySchema = z.strictObject({
  familyId: z.string().max(128),
  clientId: z.string().max(2000),
  keyId: z.string().max(256),
  resource: z.string().max(2000),
  scopes,
  expiresAt: z.number(),
});

// ---- One-time sign-in codes (made by an operator with `mcp-warden oauth code`) ----

/**
 * takeSignInCode: KEYS[1] the code hash; ARGV now. Returns {'unknown'} | {'expired', rec} |
 * {'spent', rec} | {'fresh', rec}. An expired code is told once, then deleted; a spent one is kept (and told
 * `spent`) until it would have expired.
 */
const TAKE_SIGN_IN_CODE = `
local h = redis.call('HMGET', KEYS[1], 'rec', 'exp', 'spent')
if not h[1] or not h[2] then return {'unknown'} end
if tonumber(ARGV[1]) >= tonumber(h[2]) then
  redis.call('DEL', KEYS[1])
  if h[3] == '1' then return {'unknown'} end
  return {'expired', h[1]}
end
if h[3] == '1' then return {'spent', h[1]} end
redis.call('HSET', KEYS[1], 'spent', '1')
return {'fresh', h[1]}
`;
const TAKE_SIGN_IN_CODE_SCRIPT: LuaScript = { name: 'wardenOAuthTakeSignInCode', keys: 1, lua: TAKE_SIGN_IN_CODE };

const signInCodeSchema = z.strictObject({
  keyId: z.string().max(256),
  issuedBy: z.string().max(256),
  expiresAt: z.number(),
});

// ---- end of one-time sign-in codes ----

export interface RedisOAuthStoreOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly seal: RecordSeal;
  /** The server's clock, for the TTLs only (expiry decisions use the `now` each call passes). */
  readonly now?: () => number;
  /** Called when Redis failed under `isFamilyRevoked` (the local revocations answer then). */
  readonly onError?: (error: unknown) => void;
}

/**
 * {@link OAuthStore} on Redis, shared by the replicas.
 *
 * @example
 * const store = new RedisOAuthStore({ client, keys: redisKeys('mcpw:'), seal });
 * const server = new AuthorizationServer({ ...options, store });
 */
export class RedisOAuthStore implements OAuthStore {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #seal: RecordSeal;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  /** Families revoked by this replica: still refused when Redis fails (bounded by their expiry). */
  readonly #localRevoked = new Map<string, number>();

  constructor(options: RedisOAuthStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#seal = options.seal;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
  }

  #ttl(expiresAt: number): number {
    return Math.max(1, Math.ceil(expiresAt - this.#now())) + TTL_SLACK_MS;
  }

  #open<T>(schema: z.ZodType<T>, key: string, sealed: string | null | undefined): T | undefined {
    const payload = this.#seal.open('oauth', key, sealed);
    if (payload === undefined) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(payload));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async putClient(client: ClientRecord): Promise<void> {
    const key = this.#keys.oauthClient(client.clientId);
    await this.#client.set(key, this.#seal.seal(key, JSON.stringify(client)), 'PX', this.#ttl(client.expiresAt));
  }

  async getClient(clientId: string, now: number, touchUntil?: number): Promise<ClientRecord | undefined> {
    const key = this.#keys.oauthClient(clientId);
    const client = this.#open(clientSchema, key, await this.#client.get(key));
    if (client === undefined || client.clientId !== clientId || !(now < client.expiresAt)) return undefined;
    const record: ClientRecord = { ...client, clientName: client.clientName };
    if (touchUntil === undefined || !(touchUntil > record.expiresAt)) return record;
    // Two replicas touching at once both move the expiry forward; whichever write lands last stands.
    const touched = { ...record, expiresAt: touchUntil };
    await this.#client.set(key, this.#seal.seal(key, JSON.stringify(touched)), 'PX', this.#ttl(touchUntil));
    return touched;
  }

  async putCode(digest: string, code: CodeRecord): Promise<void> {
    await this.#putSingleUse(this.#keys.oauthCode(digest), code);
  }

  /** A single-use record (a code): sealed, its expiry in clear for the take script, not spent, with its TTL. */
  async #putSingleUse(key: string, record: { readonly expiresAt: number }): Promise<void> {
    await this.#client
      .multi()
      .del(key)
      .hset(key, { rec: this.#seal.seal(key, JSON.stringify(record)), exp: String(record.expiresAt), spent: '0' })
      .pexpire(key, this.#ttl(record.expiresAt))
      .exec();
  }

  async takeCode(digest: string, now: number): Promise<CodeTake> {
    const key = this.#keys.oauthCode(digest);
    const [kind, value] = (await runScript(this.#client, TAKE_CODE_SCRIPT, key, String(now), String(SPENT_CODE_MEMORY_MS), String(TTL_SLACK_MS))) as [string, string | undefined];
    if (kind === 'spent') {
      const familyId = value === undefined || value === '' ? undefined : this.#seal.open('oauth', `${key}#fam`, value);
      return { kind: 'spent', familyId };
    }
    if (kind !== 'fresh') return { kind: 'unknown' };
    const code = this.#open(codeSchema, key, value);
    // The plain `exp` beside the sealed record only drives the script; the sealed expiry decides.
    if (code === undefined || !(now < code.expiresAt)) return { kind: 'unknown' };
    return { kind: 'fresh', code };
  }

  async bindCode(digest: string, familyId: string): Promise<boolean> {
    const key = this.#keys.oauthCode(digest);
    return (await runScript(this.#client, BIND_CODE_SCRIPT, key, this.#seal.seal(`${key}#fam`, familyId))) === 1;
  }

  async putFamily(family: FamilyRecord): Promise<void> {
    const key = this.#keys.oauthFamily(family.familyId);
    await this.#client.set(key, this.#seal.seal(key, JSON.stringify(family)), 'PX', this.#ttl(family.expiresAt));
  }

  async putRefresh(digest: string, familyId: string, expiresAt: number): Promise<void> {
    const key = this.#keys.oauthRefresh(digest);
    const fields = { fam: familyId, exp: String(expiresAt) };
    await this.#client
      .multi()
      .del(key)
      .hset(key, { ...fields, used: '0', mac: this.#seal.tag(key, `${fields.fam}\n${fields.exp}`) })
      .pexpire(key, this.#ttl(expiresAt))
      .exec();
  }

  async peekRefresh(digest: string, now: number): Promise<RefreshLookup> {
    const key = this.#keys.oauthRefresh(digest);
    const found = await this.#client.hmget(key, 'fam', 'exp', 'mac', 'used');
    if (found[0] === null || found[0] === undefined) return { kind: 'unknown' };
    return this.#refreshLookup(key, [found[0], found[1] ?? '', found[2] ?? '', found[3] ?? '0'], now);
  }

  async useRefresh(digest: string, now: number): Promise<RefreshLookup> {
    const key = this.#keys.oauthRefresh(digest);
    const found = (await runScript(this.#client, USE_REFRESH_SCRIPT, key)) as [string, string, string, string] | null;
    if (found === null) return { kind: 'unknown' };
    return this.#refreshLookup(key, found, now);
  }

  /** What a refresh token's fields (read by peekRefresh, or by USE_REFRESH as they were before the use) say, with its family. */
  async #refreshLookup(key: string, found: readonly [string, string, string, string], now: number): Promise<RefreshLookup> {
    const [familyId, exp, mac, used] = found;
    if (!this.#seal.check('oauth', key, `${familyId}\n${exp}`, mac) || !(now < Number(exp))) return { kind: 'unknown' };
    const familyKey = this.#keys.oauthFamily(familyId);
    const [stored, revoked] = await Promise.all([this.#client.get(familyKey), this.#client.exists(this.#keys.oauthRevoked(familyId))]);
    const family = this.#open(familySchema, familyKey, stored);
    if (family === undefined || family.familyId !== familyId || !(now < family.expiresAt)) return { kind: 'unknown' };
    if (revoked === 1 || this.#localRevoked.has(familyId)) return { kind: 'revoked', family };
    if (used === '1') return { kind: 'reused', family };
    return { kind: 'fresh', family };
  }

  async revokeFamily(familyId: string): Promise<void> {
    const familyKey = this.#keys.oauthFamily(familyId);
    const family = this.#open(familySchema, familyKey, await this.#client.get(familyKey).catch(() => null));
    const until = family?.expiresAt ?? this.#now() + ORPHAN_REVOCATION_MS;
    this.#rememberRevoked(familyId, until);
    // A mark, not a grant: it can only refuse. Kept until the family would have ended anyway.
    await this.#client.set(this.#keys.oauthRevoked(familyId), '1', 'PX', this.#ttl(until));
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    if (this.#localRevoked.has(familyId)) return true;
    try {
      return (await this.#client.exists(this.#keys.oauthRevoked(familyId))) === 1;
    } catch (error) {
      // Redis failed: this replica's own revocations still hold; other replicas' are unknown until it answers.
      this.#onError(error);
      return false;
    }
  }

  // ---- One-time sign-in codes: sealed like the other grants, single use by Lua like codes ----

  async putSignInCode(digest: string, code: SignInCodeRecord): Promise<void> {
    await this.#putSingleUse(this.#keys.oauthSignInCode(digest), code);
  }

  async takeSignInCode(digest: string, now: number): Promise<SignInCodeTake> {
    const key = this.#keys.oauthSignInCode(digest);
    const [kind, value] = (await runScript(this.#client, TAKE_SIGN_IN_CODE_SCRIPT, key, String(now))) as [string, string | undefined];
    if (kind !== 'expired' && kind !== 'spent' && kind !== 'fresh') return { kind: 'unknown' };
    const code = this.#open(signInCodeSchema, key, value);
    if (code === undefined) return { kind: 'unknown' };
    // The plain `exp` only drives the script; the sealed expiry decides.
    if (kind === 'fresh' && !(now < code.expiresAt)) return { kind: 'expired', code };
    return { kind, code };
  }

  // ---- end of one-time sign-in codes ----

  /** Bounded: the oldest mark goes at 10,000 (Redis keeps them all; this is the fallback only). */
  #rememberRevoked(familyId: string, until: number): void {
    const now = this.#now();
    for (const [id, end] of this.#localRevoked) if (!(now < end)) this.#localRevoked.delete(id);
    while (this.#localRevoked.size >= 10_000) this.#localRevoked.delete(this.#localRevoked.keys().next().value as string);
    this.#localRevoked.set(familyId, until);
  }
}
