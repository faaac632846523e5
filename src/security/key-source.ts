/**
 * @module security/key-source
 * The current key ring: configured keys plus the keys file, reloaded without a restart when
 * the file changes (directory watch) or on SIGHUP. A file that fails to parse on reload
 * keeps the last good ring and is reported; at start it is fatal (the caller exits 2).
 */

import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { KeyRing, type KeyRecord } from './api-keys.js';
import { keyRecordsOf, parseKeysFile, KeysFileError } from './keys-file.js';

/** What a reload did, for the log and the audit trail. */
export type ReloadEvent =
  | { readonly ok: true; readonly keys: number; readonly active: number; readonly trigger: 'start' | 'watch' | 'signal' | 'manual' }
  | { readonly ok: false; readonly error: string; readonly trigger: 'watch' | 'signal' | 'manual' };

export interface KeySourceOptions {
  /** Keys from flags, environment and config file. */
  readonly configKeys: readonly string[];
  /** Path of the keys file, if any. */
  readonly keysFile?: string | undefined;
  /** Called after every reload attempt (not for the initial load). */
  readonly onReload?: (event: ReloadEvent) => void;
  /** Debounce for bursts of file events, ms (default 50). */
  readonly debounceMs?: number;
}

export class KeySource {
  readonly #configRecords: readonly KeyRecord[];
  readonly #path: string | undefined;
  readonly #onReload: KeySourceOptions['onReload'];
  readonly #debounceMs: number;
  #ring: KeyRing;
  #digest: string | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #signalHandler: (() => void) | undefined;

  /** Loads the keys; throws KeysFileError when the keys file is unreadable or invalid. */
  constructor(options: KeySourceOptions) {
    this.#configRecords = KeyRing.recordsOf(options.configKeys);
    this.#path = options.keysFile;
    this.#onReload = options.onReload;
    this.#debounceMs = options.debounceMs ?? 50;
    const { ring, digest } = this.#load();
    this.#ring = ring;
    this.#digest = digest;
  }

  /** The ring to verify against now. */
  get ring(): KeyRing {
    return this.#ring;
  }

  get keysFile(): string | undefined {
    return this.#path;
  }

  /** Starts watching the keys file and listening for SIGHUP. */
  start(): void {
    const path = this.#path;
    if (path === undefined || this.#watcher !== undefined) return;
    // Watch the directory: an atomic rename replaces the file's inode, which a file watch would lose.
    this.#watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(path)) this.#schedule();
    });
    this.#watcher.on('error', () => undefined);
    this.#signalHandler = () => this.reload('signal');
    process.on('SIGHUP', this.#signalHandler);
  }

  /** Re-reads the keys file now. */
  reload(trigger: 'watch' | 'signal' | 'manual' = 'manual'): ReloadEvent {
    let event: ReloadEvent;
    try {
      const { ring, digest } = this.#load();
      if (digest === this.#digest && trigger === 'watch') return { ok: true, keys: ring.size, active: ring.activeCount(), trigger };
      this.#ring = ring;
      this.#digest = digest;
      event = { ok: true, keys: ring.size, active: ring.activeCount(), trigger };
    } catch (error) {
      event = { ok: false, error: error instanceof KeysFileError ? error.message : 'keys file could not be loaded', trigger };
    }
    this.#onReload?.(event);
    return event;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#signalHandler !== undefined) process.off('SIGHUP', this.#signalHandler);
    this.#signalHandler = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reload('watch');
    }, this.#debounceMs);
    this.#timer.unref();
  }

  #load(): { ring: KeyRing; digest: string | undefined } {
    if (this.#path === undefined) return { ring: new KeyRing(this.#configRecords), digest: undefined };
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (cause) {
      throw new KeysFileError(`${this.#path}: cannot be read`, cause);
    }
    const file = parseKeysFile(text, this.#path);
    return {
      ring: new KeyRing([...this.#configRecords, ...keyRecordsOf(file)]),
      digest: createHash('sha256').update(text).digest('base64'),
    };
  }
}
