/**
 * The tamper-evident audit trail: records chain by hash, verification finds edited, deleted
 * and reordered lines, rotation keeps the chain across files, an HMAC key makes forging need
 * the key, control characters are escaped, and nothing buffered is lost on close.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, GENESIS_HASH, chainHash } from '../../src/observability/audit.js';
import { auditFiles, verifyAudit } from '../../src/observability/audit-verify.js';

function auditPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-audit-')), 'audit.log');
}

async function writeEvents(path: string, count: number, options: { key?: string; maxBytes?: number } = {}): Promise<AuditLog> {
  const log = await AuditLog.open({ path, maxBytes: options.maxBytes ?? 1024 * 1024, maxFiles: 5, key: options.key });
  for (let index = 0; index < count; index++) log.record({ event: 'tool_call', tool: 'echo', principal: 'key_abc', index });
  await log.close();
  return log;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('audit log', () => {
  it('chains every record to the previous one', async () => {
    const path = auditPath();
    const log = await writeEvents(path, 5);
    const records = lines(path).map((line) => JSON.parse(line) as { seq: number; prev: string; hash: string; event: string; time: string });
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]?.prev).toBe(GENESIS_HASH);
    for (let index = 1; index < records.length; index++) expect(records[index]?.prev).toBe(records[index - 1]?.hash);
    expect(log.head).toEqual({ seq: 5, hash: records[4]?.hash });
    expect(await verifyAudit([path])).toMatchObject({ ok: true, records: 5, firstSeq: 1, head: { seq: 5 } });
  });

  it('detects an edited line', async () => {
    const path = auditPath();
    await writeEvents(path, 5);
    const content = lines(path);
    content[2] = (content[2] as string).replace('"tool":"echo"', '"tool":"calculate"');
    writeFileSync(path, `${content.join('\n')}\n`);
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { line: 3, seq: 3, reason: 'bad_hash' } });
  });

  it('detects an edit whose own hash was recomputed (the next link breaks)', async () => {
    const path = auditPath();
    await writeEvents(path, 5);
    const content = lines(path);
    const record = content[1] as string;
    const body = record.slice(0, record.indexOf(',"hash":')).replace('"index":1', '"index":99');
    const prev = (JSON.parse(record) as { prev: string }).prev;
    content[1] = `${body},"hash":"${chainHash(prev, body)}"}`;
    writeFileSync(path, `${content.join('\n')}\n`);
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { line: 3, seq: 3, reason: 'broken_link' } });
  });

  it('detects a deleted line', async () => {
    const path = auditPath();
    await writeEvents(path, 5);
    const content = lines(path);
    content.splice(2, 1);
    writeFileSync(path, `${content.join('\n')}\n`);
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { line: 3, seq: 4, reason: 'broken_link' } });
  });

  it('detects reordered lines', async () => {
    const path = auditPath();
    await writeEvents(path, 5);
    const content = lines(path);
    [content[1], content[2]] = [content[2] as string, content[1] as string];
    writeFileSync(path, `${content.join('\n')}\n`);
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { line: 2, seq: 3, reason: 'broken_link' } });
  });

  it('detects a line that is not a record', async () => {
    const path = auditPath();
    await writeEvents(path, 3);
    writeFileSync(path, `${lines(path).join('\n')}\nhello\n`);
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { line: 4, reason: 'not_a_record' } });
  });

  it('with an HMAC key, a chain recomputed without the key does not verify', async () => {
    const path = auditPath();
    const key = 'audit-secret-0123456789';
    await writeEvents(path, 3, { key });
    expect(await verifyAudit([path], key)).toMatchObject({ ok: true, records: 3 });
    expect(await verifyAudit([path])).toMatchObject({ ok: false, break: { reason: 'bad_hash' } });
    expect(await verifyAudit([path], 'another-key-0123456789')).toMatchObject({ ok: false });
  });

  it('continues the chain of an existing file', async () => {
    const path = auditPath();
    await writeEvents(path, 2);
    await writeEvents(path, 2);
    expect(await verifyAudit([path])).toMatchObject({ ok: true, records: 4, head: { seq: 4 } });
  });

  it('refuses to continue a file whose last line is not a record', async () => {
    const path = auditPath();
    writeFileSync(path, 'garbage\n');
    await expect(AuditLog.open({ path, maxBytes: 1024, maxFiles: 2 })).rejects.toThrow(/last line is not a valid record/);
  });

  it('rotates by size and keeps the chain across files', async () => {
    const path = auditPath();
    await writeEvents(path, 60, { maxBytes: 4096 });
    const { files, missing } = auditFiles(path);
    expect(missing).toEqual([]);
    expect(files.length).toBeGreaterThan(2);
    expect(files[files.length - 1]).toBe(path);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(await verifyAudit(files, undefined, { complete: true })).toMatchObject({ ok: true, records: 60, firstSeq: 1, head: { seq: 60 } });
    // The newest file alone verifies as a chain that starts later.
    const alone = await verifyAudit([path]);
    expect(alone.ok).toBe(true);
    expect(alone.note).toMatch(/starts at seq/);
    // Dropping a middle file breaks the chain, and is reported as missing.
    const gap = files.filter((_file, index) => index !== 1);
    expect((await verifyAudit(gap)).ok).toBe(false);
    rmSync(files[1] as string);
    expect(auditFiles(path).missing).toEqual([files[1]]);
  });

  it('records where rotation pruned the trail, so deleting the oldest records is still detected', async () => {
    const path = auditPath();
    const key = 'audit-secret-0123456789';
    const log = await AuditLog.open({ path, maxBytes: 2048, maxFiles: 2, key });
    for (let index = 0; index < 120; index++) {
      log.record({ event: 'tool_call', index });
      if (index % 10 === 9) await log.flush();
    }
    await log.close();
    const { files } = auditFiles(path);
    expect(files).toHaveLength(3);
    const complete = await verifyAudit(files, key, { complete: true });
    expect(complete.ok).toBe(true);
    expect(complete.firstSeq).toBeGreaterThan(1);
    expect(readFileSync(path, 'utf8') + readFileSync(`${path}.1`, 'utf8')).toContain('"event":"audit_pruned"');
    // Someone removes the first lines of the oldest kept file: the chain still links, but it
    // no longer starts where the pruning record says it must.
    const oldest = files[0] as string;
    writeFileSync(oldest, `${lines(oldest).slice(2).join('\n')}\n`);
    expect(await verifyAudit(files, key, { complete: true })).toMatchObject({ ok: false, break: { reason: 'missing_start' } });
  });

  it('says in each pruning record what went, with totals that survive a restart', async () => {
    const path = auditPath();
    let rotations = 0;
    const options = { path, maxBytes: 4096, maxFiles: 2, onRotate: () => rotations++ };
    const fill = async (log: AuditLog, count: number): Promise<void> => {
      for (let index = 0; index < count; index++) {
        log.record({ event: 'denied', ip: '127.0.0.2', reason: 'banned', index });
        await log.flush();
      }
    };
    const first = await AuditLog.open(options);
    await fill(first, 100);
    await first.close();
    const second = await AuditLog.open(options);
    await fill(second, 100);
    await second.close();
    expect(rotations).toBeGreaterThan(4);
    const { files } = auditFiles(path);
    const result = await verifyAudit(files, undefined, { complete: true });
    expect(result.ok).toBe(true);
    // Every rotation after the first maxFiles deleted one file.
    expect(result.pruned).toMatchObject({ records: (result.firstSeq as number) - 1, seqTo: (result.firstSeq as number) - 1, files: rotations - 2 });
    expect(result.pruned?.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    const anchors = files
      .flatMap((file) => lines(file))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record['event'] === 'audit_pruned');
    const newest = anchors[anchors.length - 1] as Record<string, unknown>;
    expect(newest['prunedSeqTo']).toBe((newest['firstKeptSeq'] as number) - 1);
    expect(newest['prunedRecords']).toBe((newest['prunedSeqTo'] as number) - (newest['prunedSeqFrom'] as number) + 1);
    expect(newest['totalPrunedRecords']).toBe(result.pruned?.records);
  });

  it('a single un-rotated file must start at seq 1', async () => {
    const path = auditPath();
    await writeEvents(path, 5);
    writeFileSync(path, `${lines(path).slice(1).join('\n')}\n`);
    expect(await verifyAudit([path], undefined, { complete: true })).toMatchObject({ ok: false, break: { reason: 'missing_start', seq: 2 } });
  });

  it('escapes control characters so a value cannot forge a line', async () => {
    const path = auditPath();
    const log = await AuditLog.open({ path, maxBytes: 1024 * 1024, maxFiles: 2 });
    log.record({ event: 'auth_failure', reason: 'x"}\n{"seq":99,"event":"forged"\u2028\u0085' });
    await log.close();
    const content = lines(path);
    expect(content).toHaveLength(1);
    expect(content[0]).not.toMatch(/[\u2028\u0085]/);
    expect(JSON.parse(content[0] as string)).toMatchObject({ seq: 1, event: 'auth_failure' });
    expect(await verifyAudit([path])).toMatchObject({ ok: true, records: 1 });
  });

  it('never lets an event overwrite the chain fields', async () => {
    const path = auditPath();
    const log = await AuditLog.open({ path, maxBytes: 1024 * 1024, maxFiles: 2 });
    log.record({ event: 'x', seq: 1000, prev: 'forged', hash: 'forged', time: 'then' });
    await log.close();
    expect(JSON.parse(lines(path)[0] as string)).toMatchObject({ seq: 1, prev: GENESIS_HASH });
    expect(await verifyAudit([path])).toMatchObject({ ok: true });
  });

  it('writes everything buffered before close resolves', async () => {
    const path = auditPath();
    const log = await AuditLog.open({ path, maxBytes: 10 * 1024 * 1024, maxFiles: 2 });
    for (let index = 0; index < 5000; index++) log.record({ event: 'tool_call', index });
    await log.close();
    expect(lines(path)).toHaveLength(5000);
    expect(await verifyAudit([path])).toMatchObject({ ok: true, records: 5000 });
  });
});
