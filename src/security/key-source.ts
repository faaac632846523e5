/**
 * @module security/key-source
 * The current key ring: configured keys plus the keys file, reloaded without a restart when
 * the file changes (directory watch) or on SIGHUP. A file that fails to parse, or that someone
 * other than the process's user or root could change (see `readTrustedKeysFile`), keeps the last
 * good ring on reload and is reported; at start it is fatal (the caller exits 2).
 */

import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { KeyRing, type KeyRecord } from './api-keys.js';
import type { KeyRestriction } from '../store/types.js';
import { keyRecordsOf, parseKeysFile, readTrustedKeysFile, KeysFileError } from './keys-file.js';

/** What a reload did, for the log and the audit trail. */
export type ReloadEvent =
  | { readonly ok: true; readonly keys: number; readonly active: number; readonly trigger: 'start' | 'watch' | 'signal' | 'manual' | 'shared' }
  | { readonly ok: false; readonly error: string; readonly trigger: 'watch' | 'signal' | 'manual' };

export interface KeySourceOptions {
  /** Keys from flags, environment and config file. */
  readonly configKeys: readonly string[];
  /** Path of the keys file, if any. */
  readonly keysFile?: string | undefined;
  /** Called after every reload attempt (not for the initial load). */
  readonly onReload?: (event: ReloadEvent) => void;
  /** Called with the keys file's revocations and expiries after each successful local load, to share them. */
  readonly onRestrictions?: (restrictions: KeyRestriction[]) => void;
  /** Debounce for bursts of file events, ms (default 50). */
  readonly debounceMs?: number;
  /** Clock for expiry and rotation overlaps (default `Date.now`). */
  readonly now?: () => number;
}

export class KeySource {
  readonly #configRecords: readonly KeyRecord[];
  readonly #path: string | undefined;
  readonly #onReload: KeySourceOptions['onReload'];
  #onRestrictions: KeySourceOptions['onRestrictions'];
  #fileRecords: KeyRecord[] = [];
  /** Tightenings received from other replicas, most restrictive kept per key id. */
  readonly #restrictions = new Map<string, { disabled: boolean; expiresAt: number | undefined }>();
  readonly #debounceMs: number;
  readonly #now: () => number;
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
    this.#onRestrictions = options.onRestrictions;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#now = options.now ?? Date.now;
    const { records, digest } = this.#load();
    this.#fileRecords = records;
    this.#ring = this.#build();
    this.#digest = digest;
  }

  /** Sets where the file's restrictions are shared (once a shared store is connected). */
  shareRestrictionsWith(handler: (restrictions: KeyRestriction[]) => void): void {
    this.#onRestrictions = handler;
    handler(this.#ownRestrictions());
  }

  /**
   * Applies revocations and expiries from other replicas to keys this replica knows. Unknown
   * ids are ignored and nothing is ever loosened: shared state cannot grant access.
   */
  applyRestrictions(restrictions: readonly KeyRestriction[]): number {
    const known = new Set(this.#fileRecords.map((record) => record.id));
    let changed = 0;
    for (const restriction of restrictions) {
      if (!known.has(restriction.id)) continue;
      const current = this.#restrictions.get(restriction.id);
      // Only tighten, whatever arrives: anything but `false` revokes, and an expiry that is not
      // a finite number means expired (Math.min with NaN would otherwise revive the key).
      const disabled = restriction.disabled !== false || current?.disabled === true;
      const given = restriction.expiresAt === undefined ? undefined : typeof restriction.expiresAt === 'number' && Number.isFinite(restriction.expiresAt) ? restriction.expiresAt : 0;
      const candidates = [given, current?.expiresAt].filter((value): value is number => value !== undefined);
      const expiresAt = candidates.length === 0 ? undefined : Math.min(...candidates);
      if (current !== undefined && current.disabled === disabled && current.expiresAt === expiresAt) continue;
      this.#restrictions.set(restriction.id, { disabled, expiresAt });
      changed++;
    }
    if (changed > 0) {
      this.#ring = this.#build();
      this.#onReload?.({ ok: true, keys: this.#ring.size, active: this.#ring.activeCount(this.#now()), trigger: 'shared' });
    }
    return changed;
  }

  /** The ring to verify against now. */
  get ring(): KeyRing {
    return this.#ring;
  }

  /** Keys accepted now (by this source's clock). */
  activeCount(): number {
    return this.#ring.activeCount(this.#now());
  }

  /** True when the key with this id is accepted now: held, not revoked, not expired (past a rotation's overlap). */
  isActive(id: string): boolean {
    return this.#ring.isActive(id, this.#now());
  }

  get keysFile(): string | undefined {
    return this.#path;
  }

  /** Starts watching the keys file and listening for SIGHUP. */
  start(): void {
    const path = this.#path;
    if (path === undefined || this.#watcher !== undefined) return;
    // Watch the directory, and react to any entry: an atomic rename replaces the file's inode
    // (a file watch would lose it), and a Kubernetes Secret/ConfigMap volume updates by swapping
    // a `..data` symlink, so the file's own name never appears in the events. The digest check
    // in reload() skips re-reads that changed nothing.
    this.#watcher = watch(dirname(path), { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', () => undefined);
    this.#signalHandler = () => this.reload('signal');
    process.on('SIGHUP', this.#signalHandler);
  }

  /** Re-reads the keys file now. */
  reload(trigger: 'watch' | 'signal' | 'manual' = 'manual'): ReloadEvent {
    let event: ReloadEvent;
    try {
      const { records, digest } = this.#load();
      if (digest === this.#digest && trigger === 'watch') return { ok: true, keys: this.#ring.size, active: this.#ring.activeCount(this.#now()), trigger };
      this.#fileRecords = records;
      this.#ring = this.#build();
      this.#digest = digest;
      event = { ok: true, keys: this.#ring.size, active: this.#ring.activeCount(this.#now()), trigger };
      this.#onRestrictions?.(this.#ownRestrictions());
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

  /** The revocations and expiries in this replica's own keys file. */
  #ownRestrictions(): KeyRestriction[] {
    return this.#fileRecords
      .filter((record) => record.disabled === true || record.expiresAt !== undefined)
      .map((record) => ({ id: record.id, disabled: record.disabled === true, expiresAt: record.expiresAt }));
  }

  #build(): KeyRing {
    const file = this.#fileRecords.map((record) => {
      const restriction = this.#restrictions.get(record.id);
      if (restriction === undefined) return record;
      const expiries = [record.expiresAt, restriction.expiresAt].filter((value): value is number => value !== undefined);
      return { ...record, disabled: record.disabled === true || restriction.disabled, expiresAt: expiries.length === 0 ? undefined : Math.min(...expiries) };
    });
    return new KeyRing([...this.#configRecords, ...file]);
  }

  #load(): { records: KeyRecord[]; digest: string | undefined } {
    if (this.#path === undefined) return { records: [], digest: undefined };
    const text = readTrustedKeysFile(this.#path);
    const file = parseKeysFile(text, this.#path);
    return { records: keyRecordsOf(file), digest: createHash('sha256').update(text).digest('base64') };
  }
}
