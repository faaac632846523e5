/**
 * @module bench/lib/profile
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per
 * package, excluding idle time, so the hot spots of a server under load read in a few lines.
 */

import { readFileSync } from 'node:fs';

/** Which package or layer a script URL belongs to. */
export function packageOf(url) {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return 'node: core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return `mcp-warden ${url.slice(dist + 1).split('/').slice(0, 2).join('/')}`;
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

function shortUrl(url) {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * @param {string} file path of a .cpuprofile
 * @param {{ top?: number, requests?: number }} [options] requests served while profiled, for µs/request
 */
export function summariseProfile(file, { top = 25, requests = 0 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const delta = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000; // µs → ms
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idle += delta;
      continue;
    }
    total += delta;
    const key = `${frame.functionName || '(anonymous)'}\u0000${frame.url}\u0000${frame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  }
  const functions = [...self.entries()]
    .map(([key, ms]) => {
      const [name, url, line] = key.split('\u0000');
      return { function: name, location: url === '' ? '' : `${shortUrl(url)}:${Number(line) + 1}`, package: packageOf(url), selfMs: ms };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
  const packages = new Map();
  for (const entry of functions) packages.set(entry.package, (packages.get(entry.package) ?? 0) + entry.selfMs);
  const round = (value) => Math.round(value * 10) / 10;
  const perRequest = (ms) => (requests > 0 ? round((ms * 1000) / requests) : undefined);
  return {
    file,
    requests,
    busyMs: round(total),
    idleMs: round(idle),
    topFunctions: functions
      .slice(0, top)
      .map((entry) => ({ ...entry, selfMs: round(entry.selfMs), percent: round((entry.selfMs / total) * 100), usPerRequest: perRequest(entry.selfMs) })),
    byPackage: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => ({ package: name, selfMs: round(ms), percent: round((ms / total) * 100), usPerRequest: perRequest(ms) })),
  };
}
