/**
 * @module bench/lib/gateway-proc
 * Runner side of the gateway benchmark's servers: a gateway is started the way a user starts it
 * (its own CLI, spawned, not forked: no IPC channel, no code of ours inside it) on a free
 * loopback port, is ready when the port accepts connections, and is measured from outside
 * through /proc together with every child process it spawned (./proc-tree.mjs). Stopping sends
 * SIGTERM, waits, and then checks that no process of its tree survived (a survivor is reported
 * and killed by pid).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { alive, treeSnapshot } from './proc-tree.mjs';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const STDERR_KEEP = 16_384;

/** A port free on 127.0.0.1 right now (the OS picks it; the gateway binds it a moment later). */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * @typedef {object} GatewayHandle
 * @property {string} name
 * @property {number} port
 * @property {string} url
 * @property {string} mcpUrl
 * @property {{ pid: number }} child   the gateway process (for ./load.mjs)
 * @property {() => number[]} pids     the gateway and every process below it, now
 * @property {() => Promise<{ rss: number, processes: number }>} memory  RSS summed over the tree
 * @property {() => string} stderr
 * @property {() => Promise<{ exitCode: number | null, signal: string | null, survivors: number[] }>} stop
 */

/**
 * Spawns `argv` (stdout to /dev/null: a gateway's log lines cost it the same as in production
 * when stdout is a file, and nothing here reads them) and resolves once `port` accepts.
 *
 * @param {{ name: string, argv: readonly string[], port: number, env: Record<string, string | undefined>, path?: string }} spec
 * @returns {Promise<GatewayHandle>}
 */
export async function startGateway(spec) {
  const child = spawn(spec.argv[0], spec.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: spec.env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await accepts(spec.port))) {
    if (exited) throw new Error(`${spec.name} exited before it listened (code ${child.exitCode}, signal ${child.signalCode}).\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} did not listen on ${spec.port} within ${READY_TIMEOUT_MS / 1000}s.\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = `http://127.0.0.1:${spec.port}`;
  let stopped;
  return {
    name: spec.name,
    port: spec.port,
    url,
    mcpUrl: `${url}${spec.path ?? '/mcp'}`,
    child: { pid: child.pid },
    pids: () => treeSnapshot(child.pid).pids,
    async memory() {
      const tree = treeSnapshot(child.pid);
      return { rss: tree.rssBytes, processes: tree.pids.length };
    },
    stderr: () => stderr,
    stop() {
      stopped ??= (async () => {
        const tree = exited ? [] : treeSnapshot(child.pid).pids;
        if (!exited) {
          const exit = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exit;
          clearTimeout(timer);
        }
        // The gateway's own deadline for its children is 5 s (both gateways); allow for it.
        const until = Date.now() + 8000;
        let survivors = tree.slice(1).filter(alive);
        while (survivors.length > 0 && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          survivors = survivors.filter(alive);
        }
        for (const pid of survivors) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone meanwhile.
          }
        }
        return { exitCode: child.exitCode, signal: child.signalCode, survivors };
      })();
      return stopped;
    },
  };
}
