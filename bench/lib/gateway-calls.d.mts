/**
 * Types of bench/lib/gateway-calls.mjs for the TypeScript tests that import it
 * (test/bench/gateway-calls.test.ts); the bench itself is plain ESM.
 */

export declare const UPSTREAM_NAME: string;
export declare const SEPARATOR: string;
export declare const ECHO_TOOL: string;
export declare const ECHO_MESSAGE: string;
export declare const ECHO_ARGUMENTS: Readonly<{ message: string }>;
export declare const ECHO_EXPECTED: string;
export declare const GATEWAY_ECHO_TOOL: string;

export declare function legacyCallBody(name: string, args: Readonly<Record<string, unknown>>, id?: number): string;
export declare function echoCalls(
  naming: 'gateway' | 'bridge',
  key?: string,
): { name: string; legacyBody: string; modern: Readonly<{ id: number; body: string; headers: Readonly<Record<string, string>> }> };
export declare function stdioHandshake(id?: number): { initialize: string; initialized: string };
export declare function stdioCallLine(id: number): string;
export declare function stdioEchoProblem(line: string, id: number): string | undefined;
export declare class LineReader {
  push(chunk: string): string[];
  get pending(): number;
}
export declare function isAnswerLine(line: string): boolean;
