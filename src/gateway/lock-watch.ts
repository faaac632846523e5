/**
 * @module gateway/lock-watch
 * Notices when the pin lock file changes, so a re-pin takes effect without a restart.
 *
 * The directory is watched, not the file: `gateway pin` writes atomically (a new file renamed
 * over the old one), which a watch on the file itself would lose after the first change, and a
 * Kubernetes ConfigMap volume updates by swapping a symlink. Events for other names are
 * ignored; bursts are coalesced (`debounceMs`). A missing directory is not watched (logged by
 * the caller's first reload). Hand-written: a few lines over `fs.watch`, as the keys file's
 * reload does (`security/key-source`).
 */

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export class LockWatch {
  readonly #path: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(path: string, onChange: () => void, debounceMs = 100) {
    this.#path = path;
    this.#onChange = onChange;
    this.#debounceMs = debounceMs;
  }

  /** Starts watching; false when the directory cannot be watched. */
  start(): boolean {
    if (this.#watcher !== undefined) return true;
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, file) => {
        // Some platforms give no name: treat it as ours.
        if (file !== null && file !== name) return;
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#onChange();
        }, this.#debounceMs);
        this.#timer.unref();
      });
    } catch {
      return false;
    }
    this.#watcher.on('error', () => undefined);
    return true;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
