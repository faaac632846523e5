/**
 * @module bench/lib/cpu
 * CPU accounting around a timed run (Linux /proc; absent elsewhere): how much CPU the server
 * and the load generator used, and how much went to other processes on the machine. A loaded
 * machine is the main source of noise on small hosts; the runner reports it per run.
 */

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const CORES = availableParallelism();

function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq;
  return { busy, total: busy + idle + iowait + steal, steal };
}

/** CPU ticks (utime + stime) of one process so far; throws when it is gone. */
export function processTicks(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/**
 * Starts counting; `stop()` returns the cores used by the server, by the runner (autocannon),
 * by every other process, and stolen by the hypervisor, averaged over the run. The server may
 * be several processes (the gateway benchmark: a gateway and its children), counted together.
 *
 * @param {number | readonly number[]} serverPids
 */
export function cpuMeter(serverPids) {
  const pids = typeof serverPids === 'number' ? [serverPids] : serverPids;
  const serverTicks = () => pids.reduce((sum, pid) => sum + processTicks(pid), 0);
  let start;
  try {
    start = { machine: machineTicks(), server: serverTicks(), runner: processTicks(process.pid) };
  } catch {
    return { stop: () => undefined };
  }
  return {
    stop() {
      try {
        const machine = machineTicks();
        const server = serverTicks() - start.server;
        const runner = processTicks(process.pid) - start.runner;
        const total = machine.total - start.machine.total;
        const busy = machine.busy - start.machine.busy;
        if (total <= 0) return undefined;
        const round = (value) => Math.round(value * 100) / 100;
        // Shares of the whole machine, expressed in cores (1.0 = one core fully busy).
        return {
          serverCores: round((server / total) * CORES),
          runnerCores: round((runner / total) * CORES),
          otherCores: round((Math.max(0, busy - server - runner) / total) * CORES),
          stealCores: round(((machine.steal - start.machine.steal) / total) * CORES),
        };
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Cores used by processes other than the runner and `ownPids` over `ms` milliseconds
 * (undefined without /proc).
 *
 * @param {number[]} ownPids
 * @param {number} ms
 */
export async function otherLoad(ownPids, ms) {
  try {
    const before = { machine: machineTicks(), own: [process.pid, ...ownPids].reduce((sum, pid) => sum + processTicks(pid), 0) };
    await new Promise((resolve) => setTimeout(resolve, ms));
    const machine = machineTicks();
    const own = [process.pid, ...ownPids].reduce((sum, pid) => sum + processTicks(pid), 0);
    const total = machine.total - before.machine.total;
    if (total <= 0) return undefined;
    return (Math.max(0, machine.busy - before.machine.busy - (own - before.own)) / total) * CORES;
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) until other processes use at most `threshold` cores, so a timed
 * run does not start in the middle of someone else's build. Returns how long it waited and
 * the last load seen.
 */
export async function waitForQuiet(ownPids, { threshold, maxWaitMs, windowMs = 500 }) {
  const start = Date.now();
  let load;
  do {
    load = await otherLoad(ownPids, windowMs);
    if (load === undefined || load <= threshold) break;
  } while (Date.now() - start < maxWaitMs);
  return { waitedMs: Date.now() - start, otherCores: load === undefined ? undefined : Math.round(load * 100) / 100, quiet: load === undefined || load <= threshold };
}
