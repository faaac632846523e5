/**
 * @module observability/logger
 * The pino logger: one JSON object per line, ISO timestamps, secrets redacted by path as a
 * second line of defence (nothing should log them in the first place).
 */

import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/options.js';

/**
 * Paths censored in a log object. Exact paths only: wildcards make pino walk every object on
 * every line (they doubled the cost of the request line), and no log call passes secrets in
 * the first place; these catch a mistake at the top level or in a headers object.
 */
export const REDACT_PATHS = ['authorization', 'headers.authorization', 'req.headers.authorization', 'apiKey', 'apiKeys', 'key', 'token'];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; default stdout (asynchronous, flushed on shutdown). */
  readonly destination?: DestinationStream;
}

/** Creates the server's logger. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level,
      base: { service: 'mcp-warden' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
