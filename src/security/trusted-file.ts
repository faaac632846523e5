/**
 * @module security/trusted-file
 * Files the server trusts because nobody else could have written them: the keys file and the
 * gateway's tool lock file. Three operations, shared so both files get the same guarantees:
 *
 * - {@link readTrustedFile}: reads a file only when the file (its target, if a symlink), the link
 *   itself and the directories holding each are owned by the process's user or root and are not
 *   writable by group or others (a sticky directory may be, as /tmp and Kubernetes volume roots
 *   are). The file is checked through the descriptor it is read from, so it cannot be swapped
 *   between check and read. No checks where the platform has no uids (Windows).
 * - {@link writeFileAtomic}: a temporary file in the same directory (mode 0600, fsync), then
 *   `rename`, so a watcher only ever reads a complete version.
 * - {@link withExclusiveLock}: `<file>.lock` created with O_EXCL around a read-modify-write, so
 *   two operators changing the file at once cannot lose each other's changes; a lock older than
 *   30 s is considered abandoned.
 *
 * Hand-written on node:fs: the checks are a few stat calls and no library does exactly these.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** How refusals are worded and thrown. */
export interface TrustedFileOptions {
  /** What the file is, in messages: `keys file`, `lock file`. */
  readonly label: string;
  /** The user the file must belong to (or root); undefined skips the checks (no uids). */
  readonly uid: number | undefined;
  /** Builds the error thrown for a refusal or a read failure. */
  readonly fail: (message: string, cause?: unknown) => Error;
}

const GROUP_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Why `stats` (of `what` at `path`) is not trusted for user `uid`, or undefined. */
function distrust(path: string, label: string, what: 'file' | 'directory' | 'link', stats: Stats, uid: number): string | undefined {
  if (stats.uid !== uid && stats.uid !== 0) {
    return `${path}: refusing the ${label}: its ${what} is owned by uid ${stats.uid}, not by the user running mcp-warden (uid ${uid}) or root; chown it`;
  }
  if (what === 'link' || (stats.mode & GROUP_OTHER_WRITE) === 0) return undefined;
  // A sticky directory lets others add entries but not replace or remove ours (/tmp, Kubernetes volume roots).
  if (what === 'directory' && (stats.mode & STICKY) !== 0) return undefined;
  return `${path}: refusing the ${label}: its ${what} is writable by group or others (mode ${octal(stats.mode)}); run chmod go-w ${path}`;
}

/**
 * Reads a file's text, refusing (with `options.fail`) one that someone other than the process's
 * user or root could change. A missing file fails with the `ENOENT` error as `cause`.
 *
 * @example
 * const text = readTrustedFile('/etc/mcp-warden/keys.json', { label: 'keys file', uid: process.getuid?.(), fail: (m, c) => new Error(m, { cause: c }) });
 */
export function readTrustedFile(path: string, options: TrustedFileOptions): string {
  const { label, uid, fail } = options;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw fail(`${path}: cannot be read`, cause);
  }
  let refusal: Error | undefined;
  try {
    if (uid !== undefined) {
      const absolute = resolve(path);
      const problems = [distrust(path, label, 'file', fstatSync(fd), uid), distrust(path, label, 'link', lstatSync(absolute), uid)];
      const directories = new Set([dirname(absolute), dirname(realpathSync(absolute))]);
      for (const directory of directories) problems.push(distrust(directory, label, 'directory', statSync(directory), uid));
      const problem = problems.find((text) => text !== undefined);
      if (problem !== undefined) {
        refusal = fail(problem);
        throw refusal;
      }
    }
    return readFileSync(fd, 'utf8');
  } catch (cause) {
    if (cause === refusal) throw cause;
    throw fail(`${path}: cannot be read`, cause);
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to `path` atomically with mode 0600 (temp file in the same directory, fsync, rename). */
export function writeFileAtomic(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file may already be gone
    }
    throw error;
  }
}

const LOCK_STALE_MS = 30_000;

/**
 * Runs `run` while holding `<path>.lock` (created with O_EXCL, mode 0600, removed afterwards).
 * A lock older than 30 s is taken over; a fresh one held by someone else fails with
 * `options.fail`, naming the file and the lock.
 */
export function withExclusiveLock<T>(path: string, run: () => T, options: Pick<TrustedFileOptions, 'fail'>): T {
  const { fail } = options;
  const lock = `${path}.lock`;
  let fd: number | undefined;
  for (let attempt = 0; attempt < 2 && fd === undefined; attempt++) {
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(`${lock}: cannot create the lock file`, error);
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age < LOCK_STALE_MS) throw fail(`${path} is being changed by another process (lock ${lock}); try again`);
      unlinkSync(lock);
    }
  }
  if (fd === undefined) throw fail(`${path}: could not take the lock ${lock}`);
  try {
    return run();
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
