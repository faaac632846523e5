/**
 * @module bench/lib/child
 * The server side of the runner protocol, shared by every bench/servers/*.mjs: announce the
 * port when listening, answer memory queries over the IPC channel (optionally after a forced
 * gc when the child runs with --expose-gc), and exit cleanly on SIGTERM or when the runner goes
 * away. No route is added to any server under test; the IPC channel is the only side door.
 */

/**
 * Tells the runner (IPC) and a human (stdout) that the server listens on `port`.
 *
 * @param {string} name
 * @param {number} port
 * @param {Record<string, unknown>} [info] extra facts the runner prints (e.g. metrics state)
 */
export function announceReady(name, port, info = {}) {
  process.stdout.write(`READY ${name} http://127.0.0.1:${port}\n`);
  if (typeof process.send === 'function') process.send({ type: 'ready', port, info });
}

/**
 * Answers `{type:'mem', id, gc}` with process.memoryUsage(), and exits on SIGTERM/SIGINT or when
 * the IPC channel closes. `stop` runs before exiting (graceful: lets --cpu-prof write its file).
 *
 * @param {() => Promise<void> | void} [stop]
 */
export function serveRunnerProtocol(stop) {
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    try {
      await stop?.();
    } catch {
      // Exiting anyway: a failed close must not keep a benchmark child alive.
    }
    process.exit(0);
  };
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.on('disconnect', exit);
  process.on('message', (message) => {
    if (message === null || typeof message !== 'object') return;
    if (message.type === 'mem') {
      if (message.gc === true && typeof globalThis.gc === 'function') {
        // Two passes: the first may only queue weak callbacks/finalizers.
        globalThis.gc();
        globalThis.gc();
      }
      process.send?.({ type: 'mem', id: message.id, gcAvailable: typeof globalThis.gc === 'function', ...process.memoryUsage() });
    } else if (message.type === 'stop') {
      void exit();
    }
  });
}

/** `--name value` pairs of process.argv as a plain object (flags without a value are `true`). */
export function childArgs(argv = process.argv.slice(2)) {
  /** @type {Record<string, string | true>} */
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[arg.slice(2)] = next;
      i++;
    } else {
      out[arg.slice(2)] = true;
    }
  }
  return out;
}

/** The API key the runner generated for this run (every authenticated server checks it). */
export function benchKey() {
  const key = process.env.BENCH_API_KEY;
  if (key === undefined || key.length < 16) throw new Error('BENCH_API_KEY is not set (start servers through bench/run.mjs)');
  return key;
}
