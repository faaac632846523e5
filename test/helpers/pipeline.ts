/**
 * Floods of pipelined HTTP/1.1 requests from one loopback address, as a hostile client sends
 * them: many requests written at once on a keep-alive socket, answers counted by status. When
 * the server closes the socket early, the rest go on a new one, so every request gets an answer.
 */

import { connect } from 'node:net';

/** Sends `count` copies of a raw request from `localAddress`; resolves to the number of answers per status. */
export async function pipelineFlood(url: string, options: { count: number; localAddress: string; request: string; timeoutMs?: number }): Promise<Map<number, number>> {
  const target = new URL(url);
  const statuses = new Map<number, number>();
  let answered = 0;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (answered < options.count) {
    if (Date.now() > deadline) throw new Error(`flood: ${answered} of ${options.count} answered before the deadline`);
    const before = answered;
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: options.localAddress });
      let pending = '';
      const timer = setTimeout(() => socket.destroy(new Error('flood: timed out')), Math.max(1, deadline - Date.now()));
      socket.on('connect', () => socket.write(options.request.repeat(options.count - answered)));
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        // Status lines only start answers; error bodies are JSON and never contain one.
        const pattern = /HTTP\/1\.1 (\d{3}) /g;
        let match: RegExpExecArray | null;
        let consumed = 0;
        while ((match = pattern.exec(pending)) !== null) {
          const status = Number(match[1]);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          answered++;
          consumed = pattern.lastIndex;
        }
        pending = pending.slice(consumed);
        if (answered >= options.count) socket.destroy();
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        if (answered > before) resolve();
        else reject(error);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (answered === before) throw new Error(`flood: the server closed without answering (${answered} of ${options.count})`);
  }
  return statuses;
}

/** A raw GET with no credentials. */
export function rawGet(path: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
}
