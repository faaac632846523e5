/**
 * @module observability/audit
 * A tamper-evident audit trail: one JSON line per security event, each carrying a sequence
 * number, the hash of the previous record (`prev`) and its own hash (`hash`), so an edited,
 * deleted or reordered line breaks the chain that `mcp-warden audit verify` recomputes.
 *
 *   hash = SHA-256(prev || "\n" || body)    (HMAC-SHA256 with MCP_AUDIT_KEY when set)
 *   body = the line up to, not including, `,"hash":"…"}`
 *
 * Without a key anyone who can write the file can also recompute a forged chain; with the key
 * they cannot. Truncating the newest lines is only visible against an anchor kept elsewhere:
 * the server logs the chain head (seq, hash) on every rotation and at shutdown.
 *
 * Records are built synchronously (a few µs) and written asynchronously in batches: the request
 * path never waits on the disk. `close()` flushes everything (graceful shutdown loses nothing).
 * Rotation by size keeps the chain across files (FILE → FILE.1 → FILE.2 …). When rotation
 * deletes the oldest file it writes an `audit_pruned` record saying what went (seq and time
 * range of that file, and totals since the trail began), which `audit verify` reports.
 */

import { createHash, createHmac } from 'node:crypto';
import { existsSync, openSync, closeSync, readSync, fstatSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { WardenError } from '../errors.js';

export const GENESIS_HASH = '0'.repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const MAX_STRING = 2048;
const RESERVED_FIELDS = ['seq', 'time', 'event', 'prev', 'hash'];
// JSON.stringify leaves these unescaped; they can split or disguise lines in viewers.
const UNSAFE_CHARS = /[\u007f-\u009f\u2028\u2029]/g;

export interface AuditOptions {
  readonly path: string;
  /** Rotate when the file grows past this many bytes. */
  readonly maxBytes: number;
  /** Rotated files kept. */
  readonly maxFiles: number;
  /** HMAC key for the chain; plain SHA-256 when absent. */
  readonly key?: string | undefined;
  /** Called with the chain head after each rotation (log it as an external anchor). */
  readonly onRotate?: (head: ChainHead) => void;
  /** Called when a write fails (the records stay buffered and are retried). */
  readonly onError?: (error: unknown) => void;
}

/** What rotation has pruned so far, carried from one `audit_pruned` record to the next. */
export interface PruneTotals {
  /** Rotated files deleted since the trail began. */
  readonly files: number;
  /** Time of the oldest record ever pruned (ISO), when known. */
  readonly since: string | undefined;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** An event to record; `event` names it, other fields are its details. */
export interface AuditEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** Computes a record's hash from the previous hash and the record body. */
export function chainHash(prev: string, body: string, key?: string): string {
  const input = `${prev}\n${body}`;
  return key === undefined ? createHash('sha256').update(input).digest('hex') : createHmac('sha256', key).update(input).digest('hex');
}

function clip(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== 'object' || depth > 4) return typeof value === 'object' && value !== null ? '[object]' : value;
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => clip(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value).slice(0, 50)) out[key] = clip(item, depth + 1);
  return out;
}

/** Reads the last complete line of a file (up to 64 KiB from the end). */
function lastLine(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const length = Math.min(size, 65_536);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8').replace(/\n+$/, '');
    const newline = text.lastIndexOf('\n');
    return newline === -1 ? text : text.slice(newline + 1);
  } finally {
    closeSync(fd);
  }
}

/** Reads the complete lines in the first 64 KiB of a file (none when it cannot be read). */
function headLines(path: string): string[] {
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(65_536);
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      const text = buffer.subarray(0, length).toString('utf8');
      const lines = text.split('\n');
      // The last piece is cut at 64 KiB unless the whole file was read.
      if (length === buffer.length || lines[lines.length - 1] === '') lines.pop();
      return lines;
    } catch {
      return [];
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}

/** The `time` field of a record line, when it has one. */
function timeOf(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  try {
    const time = (JSON.parse(line) as { time?: unknown }).time;
    return typeof time === 'string' ? time : undefined;
  } catch {
    return undefined;
  }
}

/** The totals of the newest `audit_pruned` record near the start of the kept files. */
function recoverPruneTotals(path: string, maxFiles: number): PruneTotals {
  // Each pruning record is written right after a rotation, so it sits near the start of a file.
  for (let index = 0; index <= maxFiles; index++) {
    const lines = headLines(index === 0 ? path : `${path}.${index}`).filter((line) => line.includes('"event":"audit_pruned"'));
    const newest = lines[lines.length - 1];
    if (newest === undefined) continue;
    try {
      const record = JSON.parse(newest) as { totalPrunedFiles?: unknown; prunedSince?: unknown };
      return {
        files: typeof record.totalPrunedFiles === 'number' ? record.totalPrunedFiles : 1,
        since: typeof record.prunedSince === 'string' ? record.prunedSince : undefined,
      };
    } catch {
      continue;
    }
  }
  return { files: 0, since: undefined };
}

/** Parses the chain fields of a record line; undefined when the line is not a record. */
export function parseRecordLine(line: string): { seq: number; prev: string; hash: string; body: string } | undefined {
  const match = HASH_SUFFIX.exec(line);
  if (match === null) return undefined;
  let record: { seq?: unknown; prev?: unknown };
  try {
    record = JSON.parse(line) as { seq?: unknown; prev?: unknown };
  } catch {
    return undefined;
  }
  if (typeof record.seq !== 'number' || typeof record.prev !== 'string') return undefined;
  return { seq: record.seq, prev: record.prev, hash: match[1] as string, body: line.slice(0, match.index) };
}

export class AuditLog {
  readonly #options: AuditOptions;
  #seq: number;
  #prev: string;
  #buffer: string[] = [];
  #file: FileHandle | undefined;
  #size = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;
  #pruned: PruneTotals;

  private constructor(options: AuditOptions, head: ChainHead, pruned: PruneTotals) {
    this.#options = options;
    this.#seq = head.seq;
    this.#prev = head.hash;
    this.#pruned = pruned;
  }

  /**
   * Opens (or continues) an audit file. Continuing reads the last record to carry on its chain.
   * @throws Error when the last line of an existing file is not a valid record.
   */
  static async open(options: AuditOptions): Promise<AuditLog> {
    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    try {
      if (existsSync(options.path)) {
        const line = lastLine(options.path);
        if (line !== undefined) {
          const record = parseRecordLine(line);
          if (record === undefined) {
            throw new WardenError('WARDEN_ERR_CONFIG', {
              message: `audit log ${options.path}: the last line is not a valid record; check it with \`mcp-warden audit verify\` and move the file away`,
            });
          }
          head = { seq: record.seq, hash: record.hash };
        }
      }
      const log = new AuditLog(options, head, recoverPruneTotals(options.path, options.maxFiles));
      await log.#openFile();
      return log;
    } catch (error) {
      if (error instanceof WardenError) throw error;
      throw new WardenError('WARDEN_ERR_CONFIG', { message: `audit log ${options.path}: cannot be opened for appending`, cause: error });
    }
  }

  /** The newest record's sequence number and hash. */
  get head(): ChainHead {
    return { seq: this.#seq, hash: this.#prev };
  }

  /** Appends an event to the chain (synchronously) and schedules the write. */
  record(event: AuditEvent): void {
    if (this.#closed) return;
    const seq = this.#seq + 1;
    const { event: name, ...details } = event;
    const fields = clip(details) as Record<string, unknown>;
    for (const reserved of RESERVED_FIELDS) delete fields[reserved];
    const body = JSON.stringify({ seq, time: new Date().toISOString(), event: name, ...fields, prev: this.#prev })
      .slice(0, -1)
      .replace(UNSAFE_CHARS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const hash = chainHash(this.#prev, body, this.#options.key);
    this.#seq = seq;
    this.#prev = hash;
    this.#buffer.push(`${body},"hash":"${hash}"}\n`);
    if (this.#flushing === undefined) this.#flushing = new Promise((resolve) => setImmediate(resolve)).then(() => this.#drain());
  }

  /** Resolves when everything recorded so far is on disk. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#file?.close();
    this.#file = undefined;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#buffer.length > 0) {
        // Take as many lines as fit before the rotation size (at least one), so a file
        // exceeds maxBytes by at most one record.
        let count = 0;
        let bytes = 0;
        const room = this.#options.maxBytes - this.#size;
        while (count < this.#buffer.length) {
          const length = Buffer.byteLength(this.#buffer[count] as string);
          if (count > 0 && bytes + length > room) break;
          bytes += length;
          count++;
        }
        const chunk = this.#buffer.slice(0, count).join('');
        try {
          const file = this.#file ?? (await this.#openFile());
          await file.appendFile(chunk);
          this.#buffer.splice(0, count);
          this.#size += bytes;
          if (this.#size >= this.#options.maxBytes) await this.#rotate();
        } catch (error) {
          this.#options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, 200));
          if (this.#closed) return;
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #openFile(): Promise<FileHandle> {
    const file = await open(this.#options.path, 'a', 0o600);
    this.#file = file;
    this.#size = (await file.stat()).size;
    return file;
  }

  async #rotate(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
    const { path, maxFiles } = this.#options;
    const oldest = `${path}.${maxFiles}`;
    const pruned = await stat(oldest).then(() => true, () => false);
    // Read what is about to be deleted, for the pruning record (first and last record).
    const prunedFirst = pruned ? headLines(oldest)[0] : undefined;
    const prunedLast = pruned ? lastLine(oldest) : undefined;
    await rm(oldest, { force: true });
    for (let index = maxFiles - 1; index >= 1; index--) {
      const from = `${path}.${index}`;
      if (await stat(from).then(() => true, () => false)) await rename(from, `${path}.${index + 1}`);
    }
    await rename(path, `${path}.1`);
    await this.#openFile();
    if (pruned) {
      // Rotation removed the oldest records: say in the chain where the kept trail starts, so a
      // verifier can tell this from someone deleting records, and what went, so operators see it.
      const first = headLines(oldest)[0];
      const firstKeptSeq = first === undefined ? undefined : parseRecordLine(first)?.seq;
      if (firstKeptSeq !== undefined) {
        const fromSeq = prunedFirst === undefined ? undefined : parseRecordLine(prunedFirst)?.seq;
        const fromTime = timeOf(prunedFirst);
        this.#pruned = { files: this.#pruned.files + 1, since: this.#pruned.since ?? fromTime };
        this.record({
          event: 'audit_pruned',
          firstKeptSeq,
          prunedRecords: fromSeq === undefined ? undefined : firstKeptSeq - fromSeq,
          prunedSeqFrom: fromSeq,
          prunedSeqTo: firstKeptSeq - 1,
          prunedTimeFrom: fromTime,
          prunedTimeTo: timeOf(prunedLast),
          totalPrunedFiles: this.#pruned.files,
          totalPrunedRecords: firstKeptSeq - 1,
          prunedSince: this.#pruned.since,
        });
      }
    }
    this.#options.onRotate?.(this.head);
  }
}
