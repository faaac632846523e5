/**
 * A keys file someone else could change is never trusted: a file or directory writable by group
 * or others, or owned by another user (not the process's, not root), is refused at start (the
 * CLI exits 2 naming the problem) and on reload (the last good keys stay, an error is logged).
 * Owner tests need root to `chown` (CI runs as root); they are skipped otherwise.
 */

import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySource } from '../../src/security/key-source.js';
import { KeysFileError, createKeyRecord, readTrustedKeysFile, writeKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { spawnSync } from 'node:child_process';
import { CLI } from '../helpers/cli.js';
import { send } from '../helpers/http.js';
import { startWarden, stillServing, type RunningWarden } from '../helpers/warden.js';

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

const dirs: string[] = [];
let running: RunningWarden | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A private directory (0700) holding keys.json (0600) with one key. */
function keysFileWith(...names: string[]): { dir: string; path: string; keys: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-keytrust-'));
  dirs.push(dir);
  const path = join(dir, 'keys.json');
  const keys = writeKeys(path, names);
  return { dir, path, keys };
}

function writeKeys(path: string, names: string[]): string[] {
  const created = names.map((name) => createKeyRecord({ name }));
  writeKeysFile(path, { version: 1, keys: created.map((entry): KeyFileRecord => entry.record) });
  return created.map((entry) => entry.key);
}

/**
 * `mcp-warden ARGS` expected to refuse to start. Bounded: if it serves instead (the check is
 * gone), it is killed after 8 s and the status is null. SIGKILL, because a server started under
 * spawnSync does not always finish its SIGTERM shutdown.
 */
function runCli(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 8_000, killSignal: 'SIGKILL' });
  return { status: result.status, stderr: result.stderr };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeysFileError);
    return (error as Error).message;
  }
  throw new Error('expected the keys file to be refused');
}

describe('readTrustedKeysFile', () => {
  it('reads a 0600 file in a 0700 directory', () => {
    const { path } = keysFileWith('a');
    expect(readTrustedKeysFile(path)).toContain('"version": 1');
  });

  it.each([
    ['0664', 0o664],
    ['0646', 0o646],
    ['0620', 0o620],
  ])('refuses a file of mode %s (writable by group or others)', (shown, mode) => {
    const { path } = keysFileWith('a');
    chmodSync(path, mode);
    expect(refusal(() => readTrustedKeysFile(path))).toBe(`${path}: refusing the keys file: its file is writable by group or others (mode ${shown}); run chmod go-w ${path}`);
  });

  it('accepts a group/other-readable file (0644): only write access is a risk', () => {
    const { path } = keysFileWith('a');
    chmodSync(path, 0o644);
    expect(() => readTrustedKeysFile(path)).not.toThrow();
  });

  it('refuses a directory writable by group or others, unless it is sticky', () => {
    const { dir, path } = keysFileWith('a');
    chmodSync(dir, 0o770);
    expect(refusal(() => readTrustedKeysFile(path))).toMatch(/its directory is writable by group or others \(mode 0770\)/);
    chmodSync(dir, 0o777);
    expect(refusal(() => readTrustedKeysFile(path))).toMatch(/its directory is writable by group or others \(mode 0777\)/);
    // Sticky (like /tmp and Kubernetes volume roots): others cannot replace or remove our entries.
    chmodSync(dir, 0o1777);
    expect(() => readTrustedKeysFile(path)).not.toThrow();
  });

  it('checks the target of a symlink and its directory, and accepts a Kubernetes-style volume', () => {
    const { dir: target, path: real } = keysFileWith('a');
    const volume = mkdtempSync(join(tmpdir(), 'warden-volume-'));
    dirs.push(volume);
    // volume/keys.json -> volume/..data/keys.json, ..data -> the target directory
    symlinkSync(target, join(volume, '..data'));
    symlinkSync(join('..data', 'keys.json'), join(volume, 'keys.json'));
    chmodSync(volume, 0o1777);
    expect(() => readTrustedKeysFile(join(volume, 'keys.json'))).not.toThrow();
    chmodSync(target, 0o775);
    expect(refusal(() => readTrustedKeysFile(join(volume, 'keys.json')))).toBe(
      `${target}: refusing the keys file: its directory is writable by group or others (mode 0775); run chmod go-w ${target}`,
    );
    chmodSync(target, 0o700);
    chmodSync(real, 0o666);
    expect(refusal(() => readTrustedKeysFile(join(volume, 'keys.json')))).toMatch(/its file is writable by group or others \(mode 0666\)/);
  });

  it.runIf(IS_ROOT)('refuses a file, a directory or a link owned by another user (not us, not root)', () => {
    const { dir, path } = keysFileWith('a');
    chownSync(path, NOBODY, NOBODY);
    expect(refusal(() => readTrustedKeysFile(path))).toBe(
      `${path}: refusing the keys file: its file is owned by uid ${NOBODY}, not by the user running mcp-warden (uid 0) or root; chown it`,
    );
    chownSync(path, 0, 0);
    chownSync(dir, NOBODY, NOBODY);
    expect(refusal(() => readTrustedKeysFile(path))).toMatch(new RegExp(`its directory is owned by uid ${NOBODY}`));
    chownSync(dir, 0, 0);
    const link = join(dir, 'link.json');
    symlinkSync(path, link);
    lchownSync(link, NOBODY, NOBODY);
    expect(refusal(() => readTrustedKeysFile(link))).toMatch(new RegExp(`its link is owned by uid ${NOBODY}`));
  });

  it('trusts files owned by root whatever user the server runs as, and no other user\'s', () => {
    const { path } = keysFileWith('a');
    const owner = statSync(path).uid;
    if (owner === 0) expect(() => readTrustedKeysFile(path, 4242)).not.toThrow();
    else expect(refusal(() => readTrustedKeysFile(path, 4242))).toContain(`owned by uid ${owner}, not by the user running mcp-warden (uid 4242) or root`);
  });

});

describe('KeySource', () => {
  it('refuses an untrusted file at start', () => {
    const { path } = keysFileWith('a');
    chmodSync(path, 0o664);
    expect(refusal(() => new KeySource({ configKeys: [], keysFile: path }))).toMatch(/writable by group or others/);
  });

  it('on reload, an untrusted file keeps the last good keys; once fixed, the new keys load', () => {
    const { path, keys } = keysFileWith('first');
    const events: unknown[] = [];
    const source = new KeySource({ configKeys: [], keysFile: path, onReload: (event) => events.push(event) });
    try {
      expect(source.ring.verify(keys[0] as string).ok).toBe(true);
      const [second] = writeKeys(path, ['second']);
      chmodSync(path, 0o666);
      const failed = source.reload('manual');
      expect(failed).toEqual({ ok: false, trigger: 'manual', error: `${path}: refusing the keys file: its file is writable by group or others (mode 0666); run chmod go-w ${path}` });
      expect(source.ring.verify(keys[0] as string).ok).toBe(true);
      expect(source.ring.verify(second as string).ok).toBe(false);
      chmodSync(path, 0o600);
      expect(source.reload('manual')).toMatchObject({ ok: true, keys: 1 });
      expect(source.ring.verify(second as string).ok).toBe(true);
      expect(source.ring.verify(keys[0] as string).ok).toBe(false);
      expect(events).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it.runIf(IS_ROOT)('on reload, a file now owned by another user keeps the last good keys', () => {
    const { path, keys } = keysFileWith('first');
    const source = new KeySource({ configKeys: [], keysFile: path });
    try {
      const [second] = writeKeys(path, ['second']);
      chownSync(path, NOBODY, NOBODY);
      expect(source.reload('manual')).toMatchObject({ ok: false, error: expect.stringContaining(`owned by uid ${NOBODY}`) });
      expect(source.ring.verify(keys[0] as string).ok).toBe(true);
      expect(source.ring.verify(second as string).ok).toBe(false);
    } finally {
      source.close();
    }
  });
});

describe('the server', () => {
  it('keeps serving the last good keys and logs an error when the keys file turns group-writable', async () => {
    const { path, keys } = keysFileWith('first');
    running = await startWarden({ options: { keysFile: path } });
    const status = async (key: string): Promise<number> => (await send(`${running?.url}/api/tools`, { headers: { authorization: `Bearer ${key}` } })).status;
    expect(await status(keys[0] as string)).toBe(200);
    const [second] = writeKeys(path, ['second']);
    chmodSync(path, 0o664);
    running.server.keySource.reload('signal');
    expect(await status(keys[0] as string)).toBe(200);
    expect(await status(second as string)).toBe(401);
    const failure = running.logs().find((line) => line['msg'] === 'keys file reload failed; keeping the previous keys');
    expect(failure).toMatchObject({ level: 50, error: expect.stringContaining('writable by group or others (mode 0664)') });
    expect(await stillServing(running)).toBe(true);
  });
});

describe('mcp-warden --keys-file', () => {
  it('exits 2 naming the problem when the file is writable by group or others', () => {
    const { path } = keysFileWith('a');
    chmodSync(path, 0o664);
    const result = runCli(['--keys-file', path, '--port', '0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`mcp-warden: ${path}: refusing the keys file: its file is writable by group or others (mode 0664); run chmod go-w ${path}\n`);
  });

  it('exits 2 when the directory is writable by others', () => {
    const { dir, path } = keysFileWith('a');
    chmodSync(dir, 0o707);
    const result = runCli(['--keys-file', path, '--port', '0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${dir}: refusing the keys file: its directory is writable by group or others (mode 0707)`);
  });

  it.runIf(IS_ROOT)('exits 2 when the file is owned by another user', () => {
    const { path } = keysFileWith('a');
    chownSync(path, NOBODY, NOBODY);
    const result = runCli(['--keys-file', path, '--port', '0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`owned by uid ${NOBODY}, not by the user running mcp-warden (uid 0) or root`);
  });

  it('accepts a file in a 0755 directory (mkdir -p): only write access for others is refused', () => {
    const parent = mkdtempSync(join(tmpdir(), 'warden-parent-'));
    dirs.push(parent);
    mkdirSync(join(parent, 'etc'), { mode: 0o755 });
    const path = join(parent, 'etc', 'keys.json');
    writeKeys(path, ['a']);
    expect(() => readTrustedKeysFile(path)).not.toThrow();
  });
});
