/**
 * @module bench/lib/proc
 * Runner side of the child protocol (see ./child.mjs): fork a server, wait for its port, ask
 * for its memory over IPC, stop it (SIGTERM, then SIGKILL after a grace period).
 */

import { fork } from 'node:child_process';
import { once } from 'node:events';

const READY_TIMEOUT_MS = 30_000;
const MEM_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const STDERR_KEEP = 16_384;

/**
 * @typedef {object} ServerHandle
 * @property {string} name
 * @property {number} port
 * @property {string} url            base URL, e.g. http://127.0.0.1:40000
 * @property {string} mcpUrl
 * @property {Record<string, unknown>} info
 * @property {import('node:child_process').ChildProcess} child
 * @property {(options?: { gc?: boolean }) => Promise<NodeJS.MemoryUsage & { gcAvailable: boolean }>} memory
 * @property {() => Promise<void>} stop
 * @property {() => string} stderr
 */

/**
 * Forks `script` and resolves once it announced its port.
 *
 * @param {{ name: string, script: string, args?: string[], execArgv?: string[], env?: Record<string,string> }} spec
 * @returns {Promise<ServerHandle>}
 */
export async function startServer(spec) {
  const child = fork(spec.script, spec.args ?? [], {
    execArgv: spec.execArgv ?? [],
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  let nextId = 0;
  /** @type {Map<number, (value: any) => void>} */
  const pending = new Map();
  child.on('message', (message) => {
    if (message?.type === 'mem') {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.name} did not start within ${READY_TIMEOUT_MS / 1000}s.\n${stderr}`));
    }, READY_TIMEOUT_MS);
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited before it was ready (code ${code}, signal ${signal}).\n${stderr}`));
    });
  });

  const url = `http://127.0.0.1:${ready.port}`;
  let stopped;
  return {
    name: spec.name,
    port: ready.port,
    url,
    mcpUrl: `${url}/mcp`,
    info: ready.info ?? {},
    child,
    stderr: () => stderr,
    memory({ gc = false } = {}) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${spec.name} did not answer a memory query`));
        }, MEM_TIMEOUT_MS);
        pending.set(id, (value) => {
          clearTimeout(timer);
          resolve(value);
        });
        child.send({ type: 'mem', id, gc });
      });
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
