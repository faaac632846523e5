/**
 * @module operator/deploy/summary
 * What `mcp-warden deploy` prints after writing: the files, the checklist score and the next
 * steps per platform (the key is created by the operator, never by the generator).
 */

import { posix } from 'node:path';
import { checklistSections } from './checklist.js';
import { CLOUD_RUN_FILE } from './cloud-run.js';
import { APP_JSON, PROCFILE } from './heroku.js';
import { MANIFEST_FILE, SECRET_TEMPLATE_FILE } from './kubernetes.js';
import { CHECKLIST_FILE, KEYS_SECRET, repoPath, type Deployment } from './model.js';
import { PLATFORM_PROFILES, type Platform } from './platforms.js';
import { RAILWAY_JSON, RENDER_YAML } from './railway.js';

/** Done and total top-level checklist items. */
export function checklistScore(deployment: Deployment): { readonly done: number; readonly total: number } {
  const items = checklistSections(deployment).flatMap((section) => section.items);
  return { done: items.filter((item) => item.done).length, total: items.length };
}

function platformSteps(deployment: Deployment, platform: Platform): string[] {
  const path = (file: string): string => repoPath(deployment, file);
  switch (platform) {
    case 'docker':
      return [
        `docker build -f ${path('Dockerfile')} -t ${deployment.image} .`,
        `cp ${path('.env.template')} .env, fill in MCP_API_KEYS, then: docker run --rm -p 127.0.0.1:8443:8443 --env-file .env ${deployment.image}`,
      ];
    case 'kubernetes':
      return [
        `mcp-warden keygen | kubectl create secret generic ${KEYS_SECRET} --from-file=MCP_API_KEYS=/dev/stdin`,
        `push ${deployment.image} to your registry, then: kubectl apply -f ${path(MANIFEST_FILE)}`,
        `(${path(SECRET_TEMPLATE_FILE)} shows the Secret's shape; it holds no key)`,
      ];
    case 'cloud-run':
      return [
        `mcp-warden keygen | tr -d '\\n' | gcloud secrets create ${KEYS_SECRET} --data-file=-`,
        `push the image to Artifact Registry, set it in ${path(CLOUD_RUN_FILE)}, then: gcloud run services replace ${path(CLOUD_RUN_FILE)} --region REGION`,
      ];
    case 'heroku':
      return [
        `cp ${path(PROCFILE)} ${path(APP_JSON)} . (Heroku reads them from the repository root) and commit them with ${path('mcp-warden.config.json')}`,
        'heroku config:set MCP_API_KEYS=$(mcp-warden keygen) (or let app.json generate it), then git push heroku main',
      ];
    case 'railway':
      return [
        `Railway: set the config path to ${path(RAILWAY_JSON)}; Render: use ${path(RENDER_YAML)} as the Blueprint`,
        'set MCP_API_KEYS from mcp-warden keygen as a sealed/secret variable, commit the generated files, deploy',
      ];
  }
}

/**
 * The lines printed after a successful write. `outside` is the real directory written to when
 * it lies outside the current directory (the files then expect to be moved to `deploy/`).
 */
export function summaryLines(deployment: Deployment, written: readonly string[], outside?: string): string[] {
  const shown = outside !== undefined ? `${outside}/` : deployment.outPath === '' ? '.' : `${deployment.outPath}/`;
  const score = checklistScore(deployment);
  const lines = [`mcp-warden deploy: wrote ${written.length} files to ${shown}`, ...written.map((file) => `  ${outside === undefined ? repoPath(deployment, file) : posix.join(shown, file)}`), ''];
  if (outside !== undefined) {
    lines.push(`That is outside the current directory: the files refer to each other as ${deployment.outPath}/..., so copy them to ${deployment.outPath}/ in the repository the image and apps are built from.`, '');
  }
  lines.push(`Security checklist: ${score.done} of ${score.total} items done; read ${repoPath(deployment, CHECKLIST_FILE)} for the open ones.`, '');
  lines.push('Next steps (keys go into your secret store, never into these files):');
  for (const platform of deployment.platforms) {
    lines.push(`  ${PLATFORM_PROFILES[platform].label}:`);
    for (const step of platformSteps(deployment, platform)) lines.push(`    ${step}`);
  }
  if (deployment.domain === undefined) {
    lines.push('  No --domain was given: re-run with --domain HOST --force to pin the Host header and set an https public URL.');
  }
  return lines;
}
