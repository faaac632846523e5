/**
 * Types of bench/lib/mcp-http.mjs for the TypeScript tests that import it
 * (test/bench/mcp-http.test.ts); the bench itself is plain ESM.
 */

import type { Agent } from 'node:http';

export type Era = 'legacy' | 'modern';
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export declare const PROTOCOL_VERSION: string;
export declare const MODERN_PROTOCOL_VERSION: string;
export declare const CLIENT_INFO: Readonly<{ name: string; version: string }>;
export declare const ECHO_TEXT: string;
export declare const ECHO_ARGS: Readonly<{ text: string }>;
export declare const CALL_ID: number;
export declare const CALL_BODY: string;

export declare function baseHeaders(key: string): Record<string, string>;
export declare function post(url: string, headers: Record<string, string>, body: string, agent?: Agent): Promise<HttpAnswer>;
export declare function parseAnswer(response: HttpAnswer): unknown;
export declare function openSession(
  mcpUrl: string,
  key: string,
  agent?: Agent,
): Promise<{ sessionId: string; version: string; headers: Record<string, string> }>;
export declare function echoProblem(answer: unknown, era: Era, expected?: string, id?: number): string | undefined;
export declare function answerCheck(era: Era, expected?: string): (body: string) => boolean;
export declare function verifyEcho(
  mcpUrl: string,
  headers: Readonly<Record<string, string>>,
  request?: { body?: string; era?: Era; expected?: string; agent?: Agent },
): Promise<{ bytes: number; contentType: string }>;
export declare function modernCall(
  name: string,
  args: Record<string, unknown>,
  key?: string,
): Readonly<{ id: number; body: string; headers: Readonly<Record<string, string>> }>;
export declare function boundedAgent(concurrency: number): Agent;
