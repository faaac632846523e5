/**
 * Types of bench/lib/proc-tree.mjs for the TypeScript tests that import it
 * (test/bench/gateway-calls.test.ts); the bench itself is plain ESM.
 */

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  ticks: number;
  rssBytes: number;
}

export declare function parseStat(text: string): ProcStat;
export declare function descendants(root: number, processes: ReadonlyArray<{ pid: number; ppid: number }>): number[];
export declare function treeSnapshot(root: number): { pids: number[]; processes: ProcStat[]; rssBytes: number; ticks: number };
export declare function alive(pid: number): boolean;
export declare function rssOf(pids: readonly number[]): { rss: number; processes: number };
