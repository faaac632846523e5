/**
 * @module bench/lib/proc-tree
 * A process and all its descendants, read from Linux /proc: which processes they are, and the
 * sum of their resident memory. The gateway benchmark measures a gateway together with the
 * child processes it spawns (one MCP server per session, or a pool), so neither RSS nor CPU of
 * the gateway process alone says what a session costs. Children of both gateways run in their
 * own process groups (they are signalled as a group when a session ends), so the tree is
 * followed through parent ids, not through a process group. Hand-written: a few lines of
 * /proc parsing, where a package (pidtree, pidusage) would spawn `ps` on every sample.
 */

import { readdirSync, readFileSync } from 'node:fs';

/** Page size for /proc/<pid>/stat's rss field (pages); 4 KiB on the x86-64 and arm64 Linux we run on. */
const PAGE_BYTES = 4096;

/**
 * The fields of a `/proc/<pid>/stat` line the benchmark needs. The command name (field 2) is
 * in parentheses and may itself hold spaces and parentheses, so the fields after it are found
 * from its last `)`.
 *
 * @param {string} text one /proc/<pid>/stat line
 * @returns {{ pid: number, comm: string, ppid: number, ticks: number, rssBytes: number }}
 */
export function parseStat(text) {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // Field 3 (state) onwards; index 0 here is field 3.
  const fields = text.slice(close + 2).trim().split(' ');
  const field = (n) => Number(fields[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: field(4),
    ticks: field(14) + field(15), // utime + stime
    rssBytes: field(24) * PAGE_BYTES,
  };
}

/**
 * `root` and every process below it, given every process's parent: breadth-first, root first.
 * A process whose parent is not in the tree is left out (it belongs to someone else).
 *
 * @param {number} root
 * @param {ReadonlyArray<{ pid: number, ppid: number }>} processes
 * @returns {number[]}
 */
export function descendants(root, processes) {
  const children = new Map();
  for (const { pid, ppid } of processes) {
    if (pid === ppid) continue;
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** Every process on the machine with its stat fields (processes that exit meanwhile are skipped). */
function allProcesses() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parseStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // Exited between readdir and read.
    }
  }
  return out;
}

/**
 * A snapshot of `root`'s tree: its processes (root first), the sum of their RSS, their CPU
 * ticks. RSS counts shared pages once per process (as `ps` does), so the sum overstates what
 * the tree takes from the machine a little; it is the same measure for every gateway.
 *
 * @param {number} root
 * @returns {{ pids: number[], processes: ReturnType<typeof parseStat>[], rssBytes: number, ticks: number }}
 */
export function treeSnapshot(root) {
  const all = allProcesses();
  const byPid = new Map(all.map((process) => [process.pid, process]));
  const pids = descendants(root, all).filter((pid) => byPid.has(pid));
  const processes = pids.map((pid) => byPid.get(pid));
  return {
    pids,
    processes,
    rssBytes: processes.reduce((sum, process) => sum + process.rssBytes, 0),
    ticks: processes.reduce((sum, process) => sum + process.ticks, 0),
  };
}

/** Whether a process still exists (signal 0). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * RSS summed over given processes (those gone are skipped): for processes that are not one
 * tree, such as the stdio-direct row's children of the runner itself.
 *
 * @param {readonly number[]} pids
 */
export function rssOf(pids) {
  let rssBytes = 0;
  let processes = 0;
  for (const pid of pids) {
    try {
      rssBytes += parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).rssBytes;
      processes++;
    } catch {
      // Exited.
    }
  }
  return { rss: rssBytes, processes };
}
