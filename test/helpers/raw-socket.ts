/**
 * Raw HTTP/1.1 over a loopback TCP socket, for requests no HTTP client would send (two Host
 * headers, absolute-form targets, conflicting framing, thousands of headers). Bounded in time;
 * the socket is always destroyed.
 */

import { connect } from 'node:net';

export interface RawExchange {
  /** Status code of the first response, 0 when none arrived. */
  readonly status: number;
  /** Lower-cased header names of the first response. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Everything the server wrote. */
  readonly text: string;
  /** Whether the server closed the connection within the time limit. */
  readonly closed: boolean;
}

export interface RawOptions {
  /** Local address to send from (127.0.0.2 etc. to act as another client). */
  readonly localAddress?: string;
  /** Give up after this many ms (default 3000). */
  readonly timeoutMs?: number;
  /** Resolve as soon as one complete response arrived, without waiting for the close. */
  readonly firstResponse?: boolean;
}

function parse(text: string): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const rest = text.slice(end + 4);
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: Number.isNaN(length) ? rest : rest.slice(0, length) };
}

/** Sends `request` verbatim to `url`'s host and port and collects what comes back. */
export function rawExchange(url: string, request: string | Buffer, options: RawOptions = {}): Promise<RawExchange> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: options.localAddress });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parse(text), text, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 3000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.firstResponse === true) {
        const parsed = parse(Buffer.concat(chunks).toString('latin1'));
        if (parsed.status !== 0 && Buffer.byteLength(parsed.body) >= Number(parsed.headers['content-length'] ?? Infinity)) finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error) => {
      if (chunks.length > 0) finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.write(request);
  });
}
