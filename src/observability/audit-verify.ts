/**
 * @module observability/audit-verify
 * Recomputes an audit chain and reports the first record where it breaks: an edited line
 * (its hash no longer matches), a deleted or reordered line (its `prev` no longer links to
 * the record before it, or the sequence skips). Also reports what rotation pruned, from the
 * `audit_pruned` records in the files checked.
 */

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { GENESIS_HASH, chainHash, parseRecordLine, type ChainHead } from './audit.js';

export type BreakReason = 'not_a_record' | 'bad_hash' | 'broken_link' | 'sequence_gap' | 'missing_start' | 'missing_file';

export interface ChainBreak {
  readonly file: string;
  /** 1-based line number in that file. */
  readonly line: number;
  readonly seq: number | undefined;
  readonly reason: BreakReason;
}

/** What rotation deleted before the files checked, per the newest `audit_pruned` record. */
export interface PrunedSummary {
  /** Records deleted by rotation since the trail began (seq 1 … `seqTo`). */
  readonly records: number;
  readonly seqTo: number;
  /** Rotated files deleted since the trail began (undefined for records written before this was kept). */
  readonly files: number | undefined;
  /** Time of the oldest and newest record deleted, when known. */
  readonly since: string | undefined;
  readonly until: string | undefined;
  /** `audit_pruned` records found in the files checked. */
  readonly anchors: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly records: number;
  readonly firstSeq: number | undefined;
  readonly head: ChainHead | undefined;
  readonly break: ChainBreak | undefined;
  /** Set when the chain does not start at seq 1 (older rotated files were removed). */
  readonly note: string | undefined;
  /** Set when the files checked say rotation pruned older records. */
  readonly pruned: PrunedSummary | undefined;
}

/** Folds one `audit_pruned` record into the summary (the newest record's totals win). */
function foldPruned(summary: PrunedSummary | undefined, line: string): PrunedSummary | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return summary;
  }
  const kept = record['firstKeptSeq'];
  // The substring may also occur nested in a logged value: only the top-level event counts.
  if (record['event'] !== 'audit_pruned' || typeof kept !== 'number') return summary;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    records: kept - 1,
    seqTo: kept - 1,
    files: typeof record['totalPrunedFiles'] === 'number' ? record['totalPrunedFiles'] : undefined,
    since: text(record['prunedSince']) ?? summary?.since ?? text(record['prunedTimeFrom']),
    until: text(record['prunedTimeTo']) ?? summary?.until,
    anchors: (summary?.anchors ?? 0) + 1,
  };
}

/** One line for people: what rotation pruned. */
export function describePruned(pruned: PrunedSummary): string {
  const files = pruned.files === undefined ? '' : `, ${pruned.files} file${pruned.files === 1 ? '' : 's'}`;
  const time = pruned.since === undefined && pruned.until === undefined ? '' : `, written ${pruned.since ?? '?'} .. ${pruned.until ?? '?'}`;
  return `rotation pruned ${pruned.records} record${pruned.records === 1 ? '' : 's'} (seq 1..${pruned.seqTo}${time}${files})`;
}

const EXPLANATIONS: Readonly<Record<BreakReason, string>> = {
  not_a_record: 'the line is not an audit record (edited or corrupted)',
  bad_hash: 'the record was modified after it was written (its hash does not match)',
  broken_link: 'the record does not follow the one before it (a line was deleted, inserted or reordered)',
  sequence_gap: 'the sequence skips (a line was deleted)',
  missing_start: 'the oldest records are missing (the chain should start earlier: lines or a rotated file were deleted)',
  missing_file: 'a rotated file between the others is missing',
};

export function explainBreak(reason: BreakReason): string {
  return EXPLANATIONS[reason];
}

/** Rotated files of `path` oldest first, then `path` itself, and the numbers missing between them. */
export function auditFiles(path: string): { files: string[]; missing: string[] } {
  const name = basename(path);
  const numbers = readdirSync(dirname(path))
    .map((entry) => (entry.startsWith(`${name}.`) ? entry.slice(name.length + 1) : ''))
    .filter((suffix) => /^\d+$/.test(suffix))
    .map(Number)
    .sort((a, b) => a - b);
  const highest = numbers[numbers.length - 1] ?? 0;
  const missing: string[] = [];
  for (let index = 1; index <= highest; index++) if (!numbers.includes(index)) missing.push(`${path}.${index}`);
  return { files: [...numbers.reverse().map((index) => `${path}.${index}`), ...(existsSync(path) ? [path] : [])], missing };
}

/**
 * Verifies the chain across `files`, given oldest first. With `complete`, the files are the
 * whole trail: it must start at seq 1, or where the last `audit_pruned` record says rotation
 * removed the records before it.
 */
export async function verifyAudit(files: readonly string[], key?: string, options: { complete?: boolean } = {}): Promise<VerifyResult> {
  let expectedStart = 1;
  let previous: ChainHead | undefined;
  let firstSeq: number | undefined;
  let records = 0;
  let note: string | undefined;
  let pruned: PrunedSummary | undefined;
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index] as string;
      const where = (reason: BreakReason, seq?: number): VerifyResult => ({
        ok: false,
        records,
        firstSeq,
        head: previous,
        break: { file, line: index + 1, seq, reason },
        note,
        pruned,
      });
      const record = parseRecordLine(line);
      if (record === undefined) return where('not_a_record');
      if (chainHash(record.prev, record.body, key) !== record.hash) return where('bad_hash', record.seq);
      if (previous === undefined) {
        firstSeq = record.seq;
        if (record.seq === 1 && record.prev !== GENESIS_HASH) return where('broken_link', record.seq);
        if (record.seq !== 1) note = `the chain starts at seq ${record.seq}; earlier records are not in the files checked`;
      } else {
        if (record.prev !== previous.hash) return where('broken_link', record.seq);
        if (record.seq !== previous.seq + 1) return where('sequence_gap', record.seq);
      }
      previous = { seq: record.seq, hash: record.hash };
      records++;
      if (line.includes('"event":"audit_pruned"')) {
        pruned = foldPruned(pruned, line);
        if (pruned !== undefined) expectedStart = pruned.seqTo + 1;
      }
    }
  }
  if (options.complete === true && firstSeq !== undefined && firstSeq !== expectedStart) {
    return { ok: false, records, firstSeq, head: previous, break: { file: files[0] as string, line: 1, seq: firstSeq, reason: 'missing_start' }, note: undefined, pruned };
  }
  return { ok: true, records, firstSeq, head: previous, break: undefined, note, pruned };
}
