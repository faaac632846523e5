/**
 * Types of bench/lib/stdio-direct.mjs for the TypeScript tests that import it
 * (test/bench/gateway-calls.test.ts); the bench itself is plain ESM.
 */

import type { ChildProcess } from 'node:child_process';

export declare const EVERYTHING_ENTRY: string;
export declare const EVERYTHING_ARGV: readonly string[];
export declare class RawStdioClient {
  child: ChildProcess;
  get pid(): number;
  open(): Promise<this>;
  call(): Promise<{ ms: number; problem: string | undefined }>;
  close(): Promise<void>;
}
