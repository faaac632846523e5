/**
 * The gateway benchmark's requests, answer checks and /proc reading (bench/lib/gateway-calls.mjs,
 * bench/lib/proc-tree.mjs, bench/lib/stdio-direct.mjs): the echo call is built as each row
 * serves it, a JSON-RPC error or a wrong answer never passes a check (so it can never count as
 * throughput), a stdio answer only passes for the call it answers, and a gateway's tree of child
 * processes is found through parent ids.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { echoCalls, ECHO_EXPECTED, GATEWAY_ECHO_TOOL, isAnswerLine, legacyCallBody, LineReader, stdioCallLine, stdioEchoProblem } from '../../bench/lib/gateway-calls.mjs';
import { answerCheck, CALL_ID, echoProblem } from '../../bench/lib/mcp-http.mjs';
import { descendants, parseStat, rssOf, treeSnapshot } from '../../bench/lib/proc-tree.mjs';
import { RawStdioClient } from '../../bench/lib/stdio-direct.mjs';

const result = (text: string, extra: Record<string, unknown> = {}, id: number = CALL_ID): string =>
  JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], ...extra } });

describe('echoCalls', () => {
  it('names the tool with its upstream prefix on a gateway and as the upstream does on a bridge', () => {
    const gateway = echoCalls('gateway', 'k'.repeat(32));
    expect(gateway.name).toBe('server-everything__echo');
    expect(GATEWAY_ECHO_TOOL).toBe('server-everything__echo');
    expect(JSON.parse(gateway.legacyBody)).toEqual({ jsonrpc: '2.0', id: CALL_ID, method: 'tools/call', params: { name: 'server-everything__echo', arguments: { message: 'hello' } } });
    expect(gateway.modern.headers['mcp-name']).toBe('server-everything__echo');
    expect(gateway.modern.headers.authorization).toBe(`Bearer ${'k'.repeat(32)}`);
    expect(JSON.parse(gateway.modern.body).params).toMatchObject({ name: 'server-everything__echo', arguments: { message: 'hello' } });
    expect(JSON.parse(echoCalls('bridge').legacyBody).params.name).toBe('echo');
  });

  it('builds a stdio call per id, one JSON text per line', () => {
    const line = stdioCallLine(7);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(JSON.parse(legacyCallBody('echo', { message: 'hello' }, 7)));
  });
});

describe('answer checks with the upstream text "Echo: hello"', () => {
  it("accepts the gateway's JSON answer and supergateway's SSE-framed one", () => {
    const check = answerCheck('legacy', ECHO_EXPECTED);
    expect(check(result('Echo: hello'))).toBe(true);
    expect(check(`event: message\ndata: ${result('Echo: hello')}\n\n`)).toBe(true);
    expect(answerCheck('modern', ECHO_EXPECTED)(result('Echo: hello', { resultType: 'complete' }))).toBe(true);
  });

  it('refuses JSON-RPC errors (the gateway answers them in a 200), tool errors, other texts and non-JSON', () => {
    const check = answerCheck('legacy', ECHO_EXPECTED);
    const busy = JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, error: { code: -32000, message: 'Service Unavailable: upstream busy (upstream "server-everything")' } });
    expect(check(busy)).toBe(false);
    expect(check(`event: message\ndata: ${busy}\n\n`)).toBe(false);
    expect(check(result('Echo: hello', { isError: true }))).toBe(false);
    // The built-in echo's answer (the text as sent) is not the upstream's.
    expect(check(result('hello'))).toBe(false);
    expect(check('Bad Request')).toBe(false);
    expect(echoProblem(JSON.parse(busy), 'legacy', ECHO_EXPECTED)).toBe('JSON-RPC error -32000');
  });

  it('passes a stdio answer only for the call it answers', () => {
    expect(stdioEchoProblem(result('Echo: hello', {}, 5), 5)).toBeUndefined();
    expect(stdioEchoProblem(result('Echo: hello', {}, 4), 5)).toBe('id 4 instead of 5');
    expect(stdioEchoProblem(JSON.stringify({ jsonrpc: '2.0', id: 5, error: { code: -32602, message: 'Invalid params' } }), 5)).toBe('JSON-RPC error -32602');
    expect(stdioEchoProblem(result('Echo: bye', {}, 5), 5)).toBe('not the echoed text');
    expect(stdioEchoProblem('', 5)).toBe('not JSON');
  });
});

describe('LineReader and isAnswerLine', () => {
  it('splits chunks into lines across chunk boundaries and CRLF, dropping empty lines', () => {
    const reader = new LineReader();
    expect(reader.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(reader.pending).toBe(4);
    expect(reader.push(':2}\r\n\n{"c":3}\n')).toEqual(['{"b":2}', '{"c":3}']);
    expect(reader.pending).toBe(0);
  });

  it('tells answers from notifications and server requests; a broken line counts as an answer', () => {
    expect(isAnswerLine(result('Echo: hello'))).toBe(true);
    expect(isAnswerLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: {} }))).toBe(false);
    expect(isAnswerLine(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'roots/list' }))).toBe(false);
    expect(isAnswerLine('{"id": 3, broken')).toBe(true);
  });
});

describe('proc-tree', () => {
  it('parses /proc/<pid>/stat with a command name holding spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime … rss (24th).
    const line = '4242 (node (a) b) S 100 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 12345 1000000000 3000 18446744073709551615';
    expect(parseStat(line)).toEqual({ pid: 4242, comm: 'node (a) b', ppid: 100, ticks: 300, rssBytes: 3000 * 4096 });
    expect(() => parseStat('garbage')).toThrow(/not a \/proc/);
  });

  it('follows parent ids from the root, breadth-first, leaving out processes of other trees', () => {
    const table = [
      { pid: 1, ppid: 0 },
      { pid: 10, ppid: 1 },
      { pid: 11, ppid: 10 },
      { pid: 12, ppid: 11 },
      { pid: 13, ppid: 10 },
      { pid: 20, ppid: 1 },
    ];
    expect(descendants(10, table)).toEqual([10, 11, 13, 12]);
    expect(descendants(20, table)).toEqual([20]);
  });

  let child: ReturnType<typeof spawn> | undefined;
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
  });

  it("finds this process's child in its tree and sums their resident memory", async () => {
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const tree = treeSnapshot(process.pid);
    expect(tree.pids[0]).toBe(process.pid);
    expect(tree.pids).toContain(child.pid);
    expect(rssOf([process.pid]).processes).toBe(1);
    // One reading of /proc: the tree's figure is this process's plus its child's (reading this
    // process again later compared a moving figure: 63.8 MB vs 64.0 MB under load).
    const ownInSnapshot = tree.processes.find((entry: { pid: number }) => entry.pid === process.pid) as { rssBytes: number };
    const childInSnapshot = tree.processes.find((entry: { pid: number }) => entry.pid === child?.pid) as { rssBytes: number };
    expect(childInSnapshot.rssBytes).toBeGreaterThan(0);
    expect(tree.rssBytes).toBeGreaterThanOrEqual(ownInSnapshot.rssBytes + childInSnapshot.rssBytes);
  });
});

describe('RawStdioClient', () => {
  it('opens server-everything over stdio and gets the checked echo answer for each call', async () => {
    const client = await new RawStdioClient().open();
    try {
      for (let i = 0; i < 3; i++) {
        const call = await client.call();
        expect(call.problem).toBeUndefined();
        expect(call.ms).toBeGreaterThan(0);
      }
    } finally {
      await client.close();
    }
    expect(client.child.exitCode !== null || client.child.signalCode !== null).toBe(true);
  });
});
