/**
 * @module gateway/pinning
 * Tool pinning against "rug pulls" and tool poisoning: an upstream server that changes a tool's
 * description or schema after it was reviewed (to smuggle instructions to the model, or to widen
 * what the tool takes) has that tool hidden and its calls refused until an operator re-pins.
 *
 * **Digest.** {@link toolDigest} is `sha256:` followed by the base64url (no padding) SHA-256 of
 * the canonical JSON ({@link canonicalJson}: RFC 8785 key order, no whitespace) of the object
 * made of exactly these members of the tool, each present only when the tool's member is not
 * `undefined`: `name`, `title`, `description`, `inputSchema`, `outputSchema`, `annotations`.
 * An absent member stays absent (it is not written as `null`), so a tool gaining
 * `"description": null` changes its digest. Other members (`icons`, `execution`, `_meta`) are
 * not hashed: they carry no instructions to the model and upstreams may vary them freely.
 *
 * **Lock file** (`mcp-warden gateway pin` writes it; pretty-printed, keys sorted, mode 0600):
 * ```json
 * { "version": 1,
 *   "upstreams": { "everything": { "echo": { "digest": "sha256:…", "pinnedAt": "2026-11-27T18:00:00.000Z" } } } }
 * ```
 * {@link readLock} refuses a file someone other than the process's user or root could change,
 * with the keys file's checks ({@link readTrustedFile}); {@link writeLock} is atomic (temp file,
 * fsync, rename) so a watching server never reads half a file. In memory a lock is made of
 * `Map`s, so tool or upstream names such as `__proto__` are plain names.
 *
 * **Verdict** of a listed tool ({@link verdict}): `pinned` (its digest is the pinned one:
 * visible, callable), `changed` (pinned with another digest: hidden, calls refused), and for a
 * tool the lock does not name, by the `newTools` policy, `new-allowed` (visible, callable, not
 * pinned) or `new-held` (hidden, calls refused until pinned). The run-time side, which remembers
 * what each upstream listed and reports transitions, is {@link PinGuard} in `gateway/pin-guard`.
 */

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { WardenError } from '../errors.js';
import { readTrustedFile, withExclusiveLock, writeFileAtomic } from '../security/trusted-file.js';
import { canonicalJson } from './canonical-json.js';

/** The members of an MCP `Tool` that are hashed; any other members are accepted and ignored. */
export interface ToolDefinition {
  readonly name: string;
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
}

/** The hashed members, in the order documented above (the canonical JSON sorts them anyway). */
export const HASHED_MEMBERS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

const DIGEST = /^sha256:[A-Za-z0-9_-]{43}$/;

/**
 * The digest of a tool's definition (see the module header for exactly what is hashed).
 *
 * @example
 * toolDigest({ name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } }); // 'sha256:…' (50 characters)
 */
export function toolDigest(tool: ToolDefinition): string {
  const hashed: Record<string, unknown> = {};
  for (const member of HASHED_MEMBERS) {
    const value = (tool as unknown as Record<string, unknown>)[member];
    if (value !== undefined) hashed[member] = value;
  }
  return `sha256:${createHash('sha256').update(canonicalJson(hashed)).digest('base64url')}`;
}

/** One pinned tool. */
export interface PinEntry {
  readonly digest: string;
  /** ISO 8601 time the digest was pinned. */
  readonly pinnedAt: string;
}

/** The lock: upstream name → tool name → pin. */
export interface PinLock {
  readonly version: 1;
  readonly upstreams: ReadonlyMap<string, ReadonlyMap<string, PinEntry>>;
}

/** A lock file that cannot be read, is not trusted, or is not valid; the message names the problem. */
export class PinLockError extends WardenError {
  constructor(message: string, cause?: unknown) {
    super('WARDEN_ERR_CONFIG', { message, cause, reason: 'pin_lock' });
  }
}

/** A lock that pins nothing. */
export function emptyLock(): PinLock {
  return { version: 1, upstreams: new Map() };
}

const MAX_UPSTREAM_NAME = 256;
const MAX_TOOL_NAME = 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Validates one pin entry; returns the problem or the entry. */
function entryOf(value: unknown, where: string): PinEntry | string {
  if (!isPlainObject(value)) return `${where}: expected an object with digest and pinnedAt`;
  const extra = Object.keys(value).filter((key) => key !== 'digest' && key !== 'pinnedAt');
  if (extra.length > 0) return `${where}: unknown member ${JSON.stringify(extra[0])}`;
  const { digest, pinnedAt } = value;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return `${where}.digest: expected "sha256:" and 43 base64url characters`;
  if (typeof pinnedAt !== 'string' || Number.isNaN(Date.parse(pinnedAt))) return `${where}.pinnedAt: expected an ISO 8601 date`;
  return { digest, pinnedAt };
}

/**
 * Parses lock-file text; throws PinLockError naming the first problems (at most five).
 * Hand-validated rather than with zod: zod drops a record key named `__proto__`, and an
 * upstream may name a tool that.
 */
export function parseLock(text: string, path = 'lock file'): PinLock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PinLockError(`${path}: not valid JSON`, cause);
  }
  const problems: string[] = [];
  const upstreams = new Map<string, Map<string, PinEntry>>();
  if (!isPlainObject(json)) problems.push('(root): expected an object');
  else {
    const extra = Object.keys(json).filter((key) => key !== 'version' && key !== 'upstreams');
    if (json['version'] !== 1) problems.push('version: expected 1');
    if (extra.length > 0) problems.push(`(root): unknown member ${JSON.stringify(extra[0])}`);
    const all = json['upstreams'];
    if (!isPlainObject(all)) problems.push('upstreams: expected an object');
    else {
      for (const upstream of Object.keys(all)) {
        const tools = all[upstream];
        const where = `upstreams.${upstream}`;
        if (upstream.length === 0 || upstream.length > MAX_UPSTREAM_NAME) problems.push(`${where}: expected a name of 1-${MAX_UPSTREAM_NAME} characters`);
        if (!isPlainObject(tools)) {
          problems.push(`${where}: expected an object of tools`);
          continue;
        }
        const pins = new Map<string, PinEntry>();
        for (const tool of Object.keys(tools)) {
          if (tool.length === 0 || tool.length > MAX_TOOL_NAME) problems.push(`${where}.${tool}: expected a name of 1-${MAX_TOOL_NAME} characters`);
          const entry = entryOf(tools[tool], `${where}.${tool}`);
          if (typeof entry === 'string') problems.push(entry);
          else pins.set(tool, entry);
        }
        upstreams.set(upstream, pins);
      }
    }
  }
  if (problems.length > 0) throw new PinLockError(`${path}: ${problems.slice(0, 5).join('; ')}`);
  return { version: 1, upstreams };
}

/** The lock-file text: sorted, two-space indented, a final newline (stable diffs under version control). */
export function serializeLock(lock: PinLock): string {
  const sorted = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Object.fromEntries defines own properties, so a name like "__proto__" is written as a name.
  const upstreams = Object.fromEntries(
    sorted(lock.upstreams).map(([upstream, tools]) => [upstream, Object.fromEntries(sorted(tools).map(([tool, entry]) => [tool, { digest: entry.digest, pinnedAt: entry.pinnedAt }]))]),
  );
  return `${JSON.stringify({ version: 1, upstreams }, null, 2)}\n`;
}

/** Options of {@link readLock}. */
export interface ReadLockOptions {
  /** A missing file reads as {@link emptyLock} (default false: missing is an error). */
  readonly allowMissing?: boolean;
  /** The user the file must belong to (or root); default the process's; undefined skips the checks. */
  readonly uid?: number | undefined;
}

/**
 * Reads and validates a lock file, refusing (PinLockError) one that is group- or world-writable,
 * in such a directory (unless sticky), or owned by a user other than the process's or root.
 *
 * @example
 * const lock = readLock('/etc/mcp-warden/mcp-warden.lock.json', { allowMissing: true });
 */
export function readLock(path: string, options: ReadLockOptions = {}): PinLock {
  const uid = 'uid' in options ? options.uid : process.getuid?.();
  let text: string;
  try {
    text = readTrustedFile(path, { label: 'lock file', uid, fail: (message, cause) => new PinLockError(message, cause) });
  } catch (error) {
    const missing = error instanceof PinLockError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (missing && options.allowMissing === true) return emptyLock();
    throw error;
  }
  return parseLock(text, path);
}

/** Writes a lock file atomically with mode 0600 (temp file in the same directory, fsync, rename). */
export function writeLock(path: string, lock: PinLock): void {
  writeFileAtomic(path, serializeLock(lock));
}

/**
 * Reads the lock (missing reads as empty), lets `update` compute the next one, and writes it when
 * `update` returns a lock, all under `<path>.lock` (O_EXCL) so two `gateway pin` runs cannot lose
 * each other's pins. Returns what `update` returned.
 */
export function updateLock<T extends { readonly lock?: PinLock | undefined }>(path: string, update: (current: PinLock) => T): T {
  return withExclusiveLock(
    path,
    () => {
      const result = update(readLock(path, { allowMissing: true }));
      if (result.lock !== undefined) writeLock(path, result.lock);
      return result;
    },
    { fail: (message, cause) => new PinLockError(message, cause) },
  );
}

/** What to do with a tool the lock does not name. */
export type NewToolPolicy = 'allow' | 'hold';

/** A tool's standing against the lock. */
export type Verdict = 'pinned' | 'changed' | 'new-allowed' | 'new-held';

/** Whether a verdict lets the tool be listed and called. */
export function isAllowed(verdict: Verdict): boolean {
  return verdict === 'pinned' || verdict === 'new-allowed';
}

/** The verdict for a tool `name` of `upstream` whose current definition has `digest`. */
export function verdictOfDigest(lock: PinLock, upstream: string, name: string, digest: string, policy: NewToolPolicy): Verdict {
  const pin = lock.upstreams.get(upstream)?.get(name);
  if (pin === undefined) return policy === 'allow' ? 'new-allowed' : 'new-held';
  return pin.digest === digest ? 'pinned' : 'changed';
}

/**
 * The verdict for `tool` as `upstream` lists it now.
 *
 * @example
 * verdict(lock, 'everything', tool, 'hold'); // 'pinned' | 'changed' | 'new-allowed' | 'new-held'
 */
export function verdict(lock: PinLock, upstream: string, tool: ToolDefinition, policy: NewToolPolicy): Verdict {
  return verdictOfDigest(lock, upstream, tool.name, toolDigest(tool), policy);
}

/** What re-pinning one upstream changed, tool names sorted. */
export interface PinDiff {
  readonly upstream: string;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
}

/** Two different definitions under one name: which one would be pinned is ambiguous. */
export class PinConflictError extends WardenError {
  constructor(message: string) {
    super('WARDEN_ERR_CONFIG', { message, reason: 'pin_conflict' });
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A new lock in which `upstream`'s pins are exactly `tools` as listed now: unchanged tools keep
 * their `pinnedAt`, added and changed ones get `now`, tools no longer listed are dropped. Other
 * upstreams are untouched. Throws PinConflictError when two listed tools share a name but not a
 * definition.
 *
 * @example
 * const { lock: next, diff } = pinAll(lock, 'everything', tools, Date.now());
 */
export function pinAll(lock: PinLock, upstream: string, tools: readonly ToolDefinition[], now: number): { lock: PinLock; diff: PinDiff } {
  const listed = new Map<string, string>();
  for (const tool of tools) {
    const digest = toolDigest(tool);
    const seen = listed.get(tool.name);
    if (seen !== undefined && seen !== digest) throw new PinConflictError(`upstream ${upstream} lists two different tools named ${JSON.stringify(tool.name)}`);
    listed.set(tool.name, digest);
  }
  const before = lock.upstreams.get(upstream) ?? new Map<string, PinEntry>();
  const pinnedAt = new Date(now).toISOString();
  const pins = new Map<string, PinEntry>();
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const [name, digest] of listed) {
    const old = before.get(name);
    if (old !== undefined && old.digest === digest) {
      unchanged.push(name);
      pins.set(name, old);
      continue;
    }
    (old === undefined ? added : changed).push(name);
    pins.set(name, { digest, pinnedAt });
  }
  const removed = [...before.keys()].filter((name) => !listed.has(name));
  const upstreams = new Map(lock.upstreams);
  upstreams.set(upstream, pins);
  return {
    lock: { version: 1, upstreams },
    diff: { upstream, added: added.sort(byName), changed: changed.sort(byName), removed: removed.sort(byName), unchanged: unchanged.sort(byName) },
  };
}

/** A new lock without `upstream`, and the tool names it pinned (sorted). */
export function unpinUpstream(lock: PinLock, upstream: string): { lock: PinLock; removed: readonly string[] } {
  const upstreams = new Map(lock.upstreams);
  const removed = [...(upstreams.get(upstream)?.keys() ?? [])].sort(byName);
  upstreams.delete(upstream);
  return { lock: { version: 1, upstreams }, removed };
}

/** Whether a diff changes anything. */
export function diffChanges(diff: PinDiff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length > 0;
}

/** The lock file's name when none is given. */
export const LOCK_FILE_NAME = 'mcp-warden.lock.json';

/** The default lock path for a config file: `mcp-warden.lock.json` beside it. */
export function defaultLockPath(configPath: string): string {
  return join(dirname(configPath), LOCK_FILE_NAME);
}
