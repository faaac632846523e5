/**
 * Runs `mcp-warden deploy` into temporary directories and reads back what it wrote.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expect } from 'vitest';
import { runDeploy, type DeployOptions } from '../../src/cli/deploy.js';

/** A 43-character key like `mcp-warden keygen` prints (32 bytes, base64url). */
export const KNOWN_KEY = 'Q2xhdWRlLWRlcGxveS10ZXN0LWtleS0wMTIzNDU2Nzg';

/** The repository root (where package.json, src/ and public/ live). */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

// Kept as `any`: tests walk parsed manifests by path and assert on what they find.
export type Json = any;

export interface Run {
  /** The directory the command ran in (the pretend repository root). */
  readonly root: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const roots: string[] = [];

export function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'warden-deploy-'));
  roots.push(root);
  return root;
}

export function removeTempRoots(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Runs the command with `options` in `root` (a new temp dir by default). */
export async function deploy(options: DeployOptions = {}, root: string = tempRoot()): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runDeploy(options, { cwd: root, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { root, code, stdout, stderr };
}

/** Every file under `dir`, keyed by `/`-separated path relative to it. */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

export function fileMode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Parses every YAML document the way Kubernetes does (YAML 1.1), failing on any error or warning. */
export function yamlDocuments(text: string): Json[] {
  const documents = parseAllDocuments(text, { version: '1.1' });
  if (!Array.isArray(documents)) throw new Error('expected YAML documents');
  for (const document of documents) {
    expect(document.errors, 'YAML errors').toEqual([]);
    expect(document.warnings, 'YAML warnings').toEqual([]);
  }
  return documents.map((document) => document.toJS() as Json);
}

/** The one document of `kind` in a multi-document manifest. */
export function ofKind(documents: readonly Json[], kind: string): Json {
  const found = documents.filter((document) => document?.kind === kind);
  expect(found, `documents of kind ${kind}`).toHaveLength(1);
  return found[0];
}
