/**
 * Keeps the README true: every option's flag and environment variable is documented, and the
 * test command CI runs is the one the README gives.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_SPECS, type OptionSpec } from '../src/config/options.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every flag, environment variable and config-file key', () => {
    for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
      if (spec.flag !== undefined) expect(readme, spec.flag).toContain(`\`${spec.flag.replace('|', '\\|')}\``);
      if (spec.env !== undefined) expect(readme, spec.env).toContain(`\`${spec.env}\``);
      if (spec.key !== 'envKeys') expect(readme, spec.key).toContain(`\`${spec.key}\``);
    }
  });

  it('gives the install-and-run command and the test command that CI runs', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    expect(ci).toMatch(/^npm test$/m);
  });
});
