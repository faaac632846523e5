/**
 * @module bench/lib/machine
 * What the numbers were measured on.
 */

import { readFileSync } from 'node:fs';
import * as os from 'node:os';

const ROOT = new URL('../../', import.meta.url);

/** Version of an installed package, read from the project's node_modules. */
function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, ROOT), 'utf8')).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    versions: {
      autocannon: packageVersion('autocannon'),
      '@modelcontextprotocol/sdk': packageVersion('@modelcontextprotocol/sdk'),
      '@modelcontextprotocol/server': packageVersion('@modelcontextprotocol/server'),
      '@modelcontextprotocol/node': packageVersion('@modelcontextprotocol/node'),
      fastmcp: packageVersion('fastmcp'),
      fastify: packageVersion('fastify'),
      express: packageVersion('express'),
    },
  };
}
