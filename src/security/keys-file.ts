/**
 * @module security/keys-file
 * The keys file (`--keys-file`): records of API keys, never the keys. Each record has an id, a
 * name, the key's SHA-256, a short display prefix, its creation and expiry times, whether it is
 * revoked, its limits (tools, rate limit, source CIDRs) and whether it is an operator key
 * (`"operator": true`; absent or false means it is not: least privilege).
 *
 * Writes are atomic (a temporary file in the same directory, mode 0600, then `rename`), so the
 * server watching the file only ever reads a complete version.
 *
 * The server reads it only when nobody else could have changed it ({@link readTrustedKeysFile}):
 * the file and its directory are owned by the process's user or root and are not writable by
 * group or others (a directory may be if it is sticky, as Kubernetes volume roots are).
 *
 * @example
 * {
 *   "version": 1,
 *   "keys": [{ "id": "k_3f9a1c2e7b", "name": "ci", "hash": "sha256:…", "prefix": "Xy3kQ1",
 *              "created": "2026-11-27T18:00:00.000Z", "expires": null, "disabled": false,
 *              "tools": ["calculate"], "rateLimit": 60, "allowIps": ["10.0.0.0/8"], "operator": false }]
 * }
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isCidrOrAddress } from '../config/validators.js';
import { WardenError } from '../errors.js';
import type { KeyRecord } from './api-keys.js';
import { hashKey } from './api-keys.js';
import { generateApiKey } from './keygen.js';
import { readTrustedFile, withExclusiveLock, writeFileAtomic } from './trusted-file.js';

const HASH_PREFIX = 'sha256:';
/** Characters of a key kept for display; 36 of the key's 256 bits. */
const DISPLAY_PREFIX = 6;

const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), { error: 'expected an ISO 8601 date' });

const recordSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1-64 letters, digits, - or _' }),
    name: z.string().max(200),
    hash: z.string().regex(/^sha256:[A-Za-z0-9_-]{43}$/, { error: 'expected "sha256:" and 43 base64url characters' }),
    prefix: z.string().max(16).optional(),
    created: isoDate,
    expires: isoDate.nullable().optional(),
    disabled: z.boolean().optional(),
    revoked: isoDate.nullable().optional(),
    rotatedFrom: z.string().max(64).nullable().optional(),
    lastUsed: isoDate.nullable().optional(),
    tools: z.array(z.string().min(1).max(128)).nullable().optional(),
    rateLimit: z.number().int().min(1).max(1_000_000).nullable().optional(),
    allowIps: z
      .array(z.string().refine(isCidrOrAddress, { error: 'expected an IP address or CIDR' }))
      .nullable()
      .optional(),
    operator: z.boolean().optional(),
  })
  .strict();

const fileSchema = z.object({ version: z.literal(1), keys: z.array(recordSchema) }).strict();

export type KeyFileRecord = z.infer<typeof recordSchema>;
export type KeysFile = z.infer<typeof fileSchema>;

/** Thrown when a keys file cannot be read or is not valid; the message names the problem. */
export class KeysFileError extends WardenError {
  constructor(message: string, cause?: unknown) {
    super('WARDEN_ERR_CONFIG', { message, cause, reason: 'keys_file' });
  }
}

/** An empty keys file. */
export function emptyKeysFile(): KeysFile {
  return { version: 1, keys: [] };
}

/** Parses keys-file text; throws KeysFileError naming the first problems. */
export function parseKeysFile(text: string, path = 'keys file'): KeysFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new KeysFileError(`${path}: not valid JSON`, cause);
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new KeysFileError(`${path}: ${problems.join('; ')}`);
  }
  const ids = new Set<string>();
  for (const record of result.data.keys) {
    if (ids.has(record.id)) throw new KeysFileError(`${path}: duplicate key id "${record.id}"`);
    ids.add(record.id);
  }
  return result.data;
}

/** Reads and validates a keys file. A missing file reads as empty when `allowMissing`. */
export function readKeysFile(path: string, options: { allowMissing?: boolean } = {}): KeysFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if (options.allowMissing === true && (cause as NodeJS.ErrnoException).code === 'ENOENT') return emptyKeysFile();
    throw new KeysFileError(`${path}: cannot be read`, cause);
  }
  return parseKeysFile(text, path);
}

/**
 * Reads the keys file's text for the server, refusing (KeysFileError) a file that someone other
 * than the process's user or root could change: the file (its target, if a symlink), the link
 * itself, and the directories holding each must be owned by that user or root, and neither file
 * nor directory may be writable by group or others (a sticky directory may). The file is checked
 * through the descriptor it is read from, so it cannot be swapped between check and read.
 * No checks where the platform has no uids (Windows). See {@link readTrustedFile}.
 *
 * @example
 * const text = readTrustedKeysFile('/etc/mcp-warden/keys.json'); // throws on mode 0664
 */
export function readTrustedKeysFile(path: string, uid: number | undefined = process.getuid?.()): string {
  return readTrustedFile(path, { label: 'keys file', uid, fail: (message, cause) => new KeysFileError(message, cause) });
}

/** Writes a keys file atomically with mode 0600 (temp file in the same directory, fsync, rename). */
export function writeKeysFile(path: string, file: KeysFile): void {
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The records the key ring needs, from a keys file. */
export function keyRecordsOf(file: KeysFile): KeyRecord[] {
  return file.keys.map((record) => ({
    id: record.id,
    name: record.name,
    hash: Buffer.from(record.hash.slice(HASH_PREFIX.length), 'base64url'),
    expiresAt: record.expires === undefined || record.expires === null ? undefined : Date.parse(record.expires),
    disabled: record.disabled === true,
    tools: record.tools ?? undefined,
    rateLimit: record.rateLimit ?? undefined,
    allowIps: record.allowIps ?? undefined,
    operator: record.operator === true,
  }));
}

const DURATION = /^(\d+)(s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90d`, `24h`, `30m`, `45s`, `2w` into milliseconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Parses an expiry: a duration from `now` (`90d`) or an ISO date (`2027-01-01`). */
export function parseExpiry(text: string, now = Date.now()): number | undefined {
  const duration = parseDuration(text);
  if (duration !== undefined) return now + duration;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

export interface NewKeyOptions {
  readonly name: string;
  readonly expiresAt?: number | undefined;
  readonly tools?: readonly string[] | undefined;
  readonly rateLimit?: number | undefined;
  readonly allowIps?: readonly string[] | undefined;
  readonly rotatedFrom?: string | undefined;
  /** Grants the operator role. */
  readonly operator?: boolean | undefined;
  readonly now?: number;
}

/** Makes a new key and its record. The key is returned once and never stored. */
export function createKeyRecord(options: NewKeyOptions): { key: string; record: KeyFileRecord } {
  const key = generateApiKey();
  const record: KeyFileRecord = {
    id: `k_${randomBytes(5).toString('hex')}`,
    name: options.name,
    hash: `${HASH_PREFIX}${hashKey(key).toString('base64url')}`,
    prefix: key.slice(0, DISPLAY_PREFIX),
    created: new Date(options.now ?? Date.now()).toISOString(),
    expires: options.expiresAt === undefined ? null : new Date(options.expiresAt).toISOString(),
    disabled: false,
    ...(options.rotatedFrom === undefined ? {} : { rotatedFrom: options.rotatedFrom }),
    tools: options.tools === undefined || options.tools.length === 0 ? null : [...options.tools],
    rateLimit: options.rateLimit ?? null,
    allowIps: options.allowIps === undefined || options.allowIps.length === 0 ? null : [...options.allowIps],
    operator: options.operator === true,
  };
  return { key, record };
}

/** A record's state at `now`. */
export function keyStatus(record: KeyFileRecord, now = Date.now()): 'active' | 'expired' | 'revoked' {
  if (record.disabled === true) return 'revoked';
  if (record.expires !== undefined && record.expires !== null && Date.parse(record.expires) <= now) return 'expired';
  return 'active';
}

/**
 * Runs `update` on the keys file under an exclusive lock file (`<file>.lock`, O_EXCL), so two
 * operators running `mcp-warden keys` at once cannot lose each other's changes. A lock older
 * than 30 s is considered abandoned.
 */
export function updateKeysFile<T>(path: string, update: (file: KeysFile) => T): T {
  return withExclusiveLock(
    path,
    () => {
      const file = readKeysFile(path, { allowMissing: true });
      const result = update(file);
      writeKeysFile(path, file);
      return result;
    },
    { fail: (message, cause) => new KeysFileError(message, cause) },
  );
}
