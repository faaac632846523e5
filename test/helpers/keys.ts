/**
 * Keys files for tests: a fresh path in a private temporary folder, and adding a key to a file
 * the way `mcp-warden keys create` does (the server picks it up without a restart).
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyRecord, updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';

/** A `keys.json` path (not created yet) in a new temporary folder named `prefix...`. */
export function tempKeysPath(prefix = 'warden-keys-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'keys.json');
}

/** Creates a key with `options`, appends its record to the keys file at `path`, returns both. */
export function addKey(path: string, options: Parameters<typeof createKeyRecord>[0]): { key: string; record: KeyFileRecord } {
  const created = createKeyRecord(options);
  updateKeysFile(path, (file) => {
    file.keys.push(created.record);
  });
  return created;
}
