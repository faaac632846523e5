/**
 * @module mcp/tools/builtin-tools
 * The built-in tools: calculate, system_info, server_status, echo, current_time, hash_text and
 * confirm_action (`mcp/tools/confirm-action`). Each validates its input with a zod schema
 * (published as the tool's inputSchema) and turns every failure into a tool error with a short
 * message rather than an exception.
 */

import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { CALCULATOR_CONSTANTS, CALCULATOR_FUNCTIONS, CalcError, MAX_EXPRESSION_LENGTH, evaluate, formatResult } from './calculator/evaluate.js';
import { registerConfirmAction } from './confirm-action.js';
import { jsonResult, textResult, toolError, type BuiltinContext } from './context.js';

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** Names of the built-in tools, in registration order. */
export const BUILTIN_TOOL_NAMES = ['calculate', 'system_info', 'server_status', 'echo', 'current_time', 'hash_text', 'confirm_action'] as const;

/** Shared input schemas (built once per process, not per session). */
const calculateInput = {
  expression: z
    .string()
    .describe(`Arithmetic expression, at most ${MAX_EXPRESSION_LENGTH} characters, e.g. "2 * (3 + 4) ^ 2" or "sqrt(2) * pi"`),
};
const echoInput = { text: z.string().max(100_000).describe('Text to return unchanged (at most 100,000 characters)') };
const currentTimeInput = {
  timezone: z.string().max(64).default('UTC').describe('IANA time zone, e.g. "Europe/Paris" (default UTC)'),
};
const hashInput = {
  text: z.string().max(1_000_000).describe('Text to hash (UTF-8)'),
  algorithm: z.enum(['sha256', 'sha384', 'sha512']).default('sha256').describe('Hash algorithm'),
  encoding: z.enum(['hex', 'base64']).default('hex').describe('Output encoding'),
};

/** ISO 8601 local time with offset in `timeZone`, e.g. 2026-11-27T18:35:22.123+01:00. */
export function isoInZone(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (type: string): string => parts.find((part) => part.type === type)?.value ?? '00';
  const local = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second')));
  const offsetMinutes = Math.round((local - (date.getTime() - date.getUTCMilliseconds())) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
  const millis = String(date.getUTCMilliseconds()).padStart(3, '0');
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}.${millis}${offset}`;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Host facts that identify nothing: no host name, addresses, users, paths or environment. */
export function systemInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    platform: os.platform(),
    arch: os.arch(),
    nodeVersion: process.version,
    cpuCount: cpus.length > 0 ? cpus.length : os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    systemUptimeSeconds: Math.floor(os.uptime()),
    processUptimeSeconds: Math.floor(process.uptime()),
  };
}

/** Registers the built-in tools on `server`. */
export function registerBuiltinTools(server: McpServer, context: BuiltinContext): void {
  server.registerTool(
    'calculate',
    {
      title: 'Calculator',
      description:
        `Evaluates an arithmetic expression: + - * / % ^, parentheses, unary minus, decimals, ` +
        `functions ${CALCULATOR_FUNCTIONS.join(' ')} (log is base 10, log(x, b) base b), constants ${CALCULATOR_CONSTANTS.join(' ')}.`,
      inputSchema: calculateInput,
      annotations: READ_ONLY,
    },
    ({ expression }) => {
      try {
        const value = evaluate(expression);
        return { content: [{ type: 'text', text: formatResult(value) }], structuredContent: { result: Number(formatResult(value)) } };
      } catch (error) {
        if (error instanceof CalcError) return toolError(error.message);
        return toolError('expression could not be evaluated');
      }
    },
  );

  server.registerTool(
    'system_info',
    {
      title: 'System information',
      description: 'Platform, architecture, Node.js version, CPU count and model, memory and uptime of the host. Never host names, addresses, users, paths or environment.',
      annotations: READ_ONLY,
    },
    () => jsonResult(systemInfo()),
  );

  server.registerTool(
    'server_status',
    {
      title: 'Server status',
      description: 'Uptime, requests served, authentication failures, rate-limited requests, active sessions and memory of this MCP server.',
      annotations: { ...READ_ONLY, idempotentHint: false },
    },
    () => jsonResult({ ...context.status() }),
  );

  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Returns the given text unchanged.', inputSchema: echoInput, annotations: READ_ONLY },
    ({ text }) => textResult(text),
  );

  server.registerTool(
    'current_time',
    {
      title: 'Current time',
      description: 'The current time as ISO 8601 with the UTC offset of an IANA time zone.',
      inputSchema: currentTimeInput,
      annotations: { ...READ_ONLY, idempotentHint: false },
    },
    ({ timezone }) => {
      if (!isTimeZone(timezone)) return toolError('unknown time zone; use an IANA name such as Europe/Paris');
      const now = new Date();
      return jsonResult({ timezone, iso: isoInZone(now, timezone), utc: now.toISOString(), epochMs: now.getTime() });
    },
  );

  server.registerTool(
    'hash_text',
    {
      title: 'Hash text',
      description: 'SHA-256, SHA-384 or SHA-512 digest of UTF-8 text, as hex or base64.',
      inputSchema: hashInput,
      annotations: READ_ONLY,
    },
    ({ text, algorithm, encoding }) => textResult(createHash(algorithm).update(text, 'utf8').digest(encoding)),
  );

  registerConfirmAction(server, context);
}
