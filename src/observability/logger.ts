/**
 * @module observability/logger
 * The pino logger: one JSON object per line, ISO timestamps, secrets redacted by path as a
 * second line of defence (nothing should log them in the first place).
 */

import pino, { type DestinationStream, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type { SonicBoom as SonicBoomClass } from 'sonic-boom';

// A CommonJS module whose export is the class itself (its ESM interop has no named export).
const SonicBoom = createRequire(import.meta.url)('sonic-boom') as typeof SonicBoomClass;
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

/**
 * Asynchronous stdout that survives losing its reader. When the reader goes away (EPIPE: a log
 * collector that died, a parent that closed the pipe), lines are dropped from then on: the
 * server must neither crash nor hang. pino's own `pino.destination` uses sonic-boom 4, whose
 * exit-time `flushSync` retries a broken pipe for ever (the process then ignores SIGTERM);
 * sonic-boom 5 throws instead, and we drop the buffer. Buffered lines are flushed at exit, as
 * `pino.destination` does.
 */
function stdoutDestination(): DestinationStream {
  const stream = new SonicBoom({ fd: 1, sync: false });
  let broken = false;
  const flushSync = stream.flushSync.bind(stream);
  const drop = (): void => {
    broken = true;
    stream.write = () => true;
  };
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') drop();
  });
  stream.flushSync = (): void => {
    if (broken) return;
    try {
      flushSync();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      drop();
    }
  };
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // Exiting anyway: a destination that cannot take the last lines must not change that.
    }
  });
  return stream;
}

/** Creates the server's logger. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? stdoutDestination();
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
