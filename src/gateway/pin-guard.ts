/**
 * @module gateway/pin-guard
 * The run-time side of tool pinning: holds the lock, decides what each upstream's tools may do,
 * and reports each transition once.
 *
 * How the router uses it:
 * - on every tool list from an upstream, keep the tools for which {@link PinGuard.visible} is true
 *   (or call {@link PinGuard.filter}); this also records the definition each name now has;
 * - before routing a `tools/call`, ask {@link PinGuard.callable}. With a name it answers for the
 *   definition last listed under that name (a name never listed is not callable: its definition
 *   is unknown). With session isolation each client has its own child, which may list its own
 *   definitions: pass the definition that connection listed instead of the name.
 * - when the lock file changes (the router's watch, or SIGHUP), call {@link PinGuard.reload};
 *   the last good lock stays when the new file is invalid or not trusted.
 *
 * Transitions: `onTransition` is called when the verdict of an (upstream, tool name, digest)
 * triple first differs from `pinned`, and again whenever it changes after that (for example
 * `changed` → `pinned` once an operator re-pins and the guard reloads). So a changed tool is
 * reported once, not on every list; a pinned tool seen for the first time is not reported.
 * The callback feeds the audit record, the warn log line and the metric; it must not throw.
 *
 * Bounded: the guard remembers at most `maxTracked` (default 10,000) listed names and as many
 * reported triples, forgetting the oldest first, so an upstream inventing names or definitions
 * endlessly cannot grow it. A forgotten name is not callable until listed again (fail closed);
 * a forgotten triple may be reported a second time.
 */

import { emptyLock, isAllowed, PinLockError, readLock, toolDigest, verdictOfDigest, type NewToolPolicy, type PinLock, type ToolDefinition, type Verdict } from './pinning.js';

/** One verdict change, for the audit trail, the log and the metrics. */
export interface PinTransition {
  readonly upstream: string;
  readonly tool: string;
  /** The digest of the definition the upstream lists now. */
  readonly digest: string;
  readonly verdict: Verdict;
  /** The verdict last reported for this triple; undefined the first time. */
  readonly previous: Verdict | undefined;
  /** The digest in the lock for this tool, if it is pinned at all. */
  readonly pinnedDigest: string | undefined;
}

/** What a reload did. */
export type PinReload =
  | { readonly ok: true; readonly upstreams: number; readonly tools: number }
  | { readonly ok: false; readonly error: string };

export interface PinGuardOptions {
  /** What tools the lock does not name get. */
  readonly newTools: NewToolPolicy;
  /** The lock file, read now (PinLockError when invalid or not trusted) and by {@link PinGuard.reload}. */
  readonly lockFile?: string | undefined;
  /** A missing lock file reads as an empty lock (default false: a missing file is an error). */
  readonly allowMissing?: boolean;
  /** The lock to start from when there is no file (default: empty). */
  readonly lock?: PinLock;
  /** Called once per transition (see the module header). */
  readonly onTransition?: (transition: PinTransition) => void;
  /** Most listed names and reported triples remembered (default 10,000 each). */
  readonly maxTracked?: number;
}

const DEFAULT_MAX_TRACKED = 10_000;

/** A collision-free key for a pair of names (any characters, including separators, may occur in them). */
function listedKey(upstream: string, name: string): string {
  return JSON.stringify([upstream, name]);
}

/** Map insertion order is age: re-inserting refreshes, the first key is the oldest. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

/**
 * @example
 * const guard = new PinGuard({ lockFile: '/etc/mcp-warden/mcp-warden.lock.json', newTools: 'hold',
 *   onTransition: (t) => audit.record({ type: 'tool_pin', ...t }) });
 * const shown = guard.filter('everything', upstreamTools);
 * if (!guard.callable('everything', 'echo')) throw refusal;
 */
export class PinGuard {
  readonly #newTools: NewToolPolicy;
  readonly #lockFile: string | undefined;
  readonly #allowMissing: boolean;
  readonly #onTransition: ((transition: PinTransition) => void) | undefined;
  readonly #max: number;
  #lock: PinLock;
  /** listedKey(upstream, name) → { upstream, name, digest } last listed. */
  readonly #listed = new Map<string, { readonly upstream: string; readonly name: string; readonly digest: string }>();
  /** JSON [upstream, name, digest] → verdict last reported. */
  readonly #reported = new Map<string, Verdict>();

  constructor(options: PinGuardOptions) {
    this.#newTools = options.newTools;
    this.#lockFile = options.lockFile;
    this.#allowMissing = options.allowMissing === true;
    this.#onTransition = options.onTransition;
    this.#max = Math.max(1, options.maxTracked ?? DEFAULT_MAX_TRACKED);
    this.#lock = this.#lockFile === undefined ? (options.lock ?? emptyLock()) : readLock(this.#lockFile, { allowMissing: this.#allowMissing });
  }

  /** The lock in force. */
  get lock(): PinLock {
    return this.#lock;
  }

  /** How many listed names and reported triples the guard remembers now (each at most `maxTracked`). */
  get tracked(): { readonly listed: number; readonly reported: number } {
    return { listed: this.#listed.size, reported: this.#reported.size };
  }

  /** The verdict for `tool` as `upstream` lists it now; no side effects. */
  verdict(upstream: string, tool: ToolDefinition): Verdict {
    return verdictOfDigest(this.#lock, upstream, tool.name, toolDigest(tool), this.#newTools);
  }

  /** Records `tool` as `upstream`'s current definition of its name; true when it may be listed. */
  visible(upstream: string, tool: ToolDefinition): boolean {
    const digest = toolDigest(tool);
    remember(this.#listed, listedKey(upstream, tool.name), { upstream, name: tool.name, digest }, this.#max);
    return isAllowed(this.#evaluate(upstream, tool.name, digest));
  }

  /** The tools of one upstream list that may be shown, recording each (see {@link visible}). */
  filter<T extends ToolDefinition>(upstream: string, tools: readonly T[]): T[] {
    return tools.filter((tool) => this.visible(upstream, tool));
  }

  /**
   * Whether a call may go to `upstream`'s tool: by name, for the definition last listed under
   * it (never listed: false); or for the given definition.
   */
  callable(upstream: string, tool: string | ToolDefinition): boolean {
    if (typeof tool !== 'string') return isAllowed(this.#evaluate(upstream, tool.name, toolDigest(tool)));
    const listed = this.#listed.get(listedKey(upstream, tool));
    if (listed === undefined) return false;
    return isAllowed(this.#evaluate(upstream, tool, listed.digest));
  }

  /**
   * Re-reads the lock file. On success the listed tools are re-evaluated (reporting, say,
   * `changed` → `pinned`); on failure the last good lock stays and the error is returned.
   * Without a lock file it re-evaluates against the current lock.
   */
  reload(): PinReload {
    if (this.#lockFile !== undefined) {
      try {
        this.#lock = readLock(this.#lockFile, { allowMissing: this.#allowMissing });
      } catch (error) {
        return { ok: false, error: error instanceof PinLockError ? error.message : 'lock file could not be loaded' };
      }
    }
    this.#reevaluate();
    let tools = 0;
    for (const pins of this.#lock.upstreams.values()) tools += pins.size;
    return { ok: true, upstreams: this.#lock.upstreams.size, tools };
  }

  /** Puts `lock` in force (a guard without a file, or tests) and re-evaluates the listed tools. */
  replace(lock: PinLock): void {
    this.#lock = lock;
    this.#reevaluate();
  }

  #reevaluate(): void {
    for (const { upstream, name, digest } of [...this.#listed.values()]) this.#evaluate(upstream, name, digest);
  }

  #evaluate(upstream: string, name: string, digest: string): Verdict {
    const current = verdictOfDigest(this.#lock, upstream, name, digest, this.#newTools);
    const key = JSON.stringify([upstream, name, digest]);
    const previous = this.#reported.get(key);
    if (current === (previous ?? 'pinned')) return current;
    remember(this.#reported, key, current, this.#max);
    this.#onTransition?.({ upstream, tool: name, digest, verdict: current, previous, pinnedDigest: this.#lock.upstreams.get(upstream)?.get(name)?.digest });
    return current;
  }
}
