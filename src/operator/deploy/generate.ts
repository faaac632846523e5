/**
 * @module operator/deploy/generate
 * Every file of a deployment, in a stable order: the config, the checklist and the env
 * template always; the Dockerfile whenever a platform runs the image; then each platform's own.
 */

import { checklistFiles } from './checklist.js';
import { cloudRunFiles } from './cloud-run.js';
import { configFiles } from './config-file.js';
import { dockerFiles } from './docker.js';
import { envTemplateFiles } from './env-template.js';
import { herokuFiles } from './heroku.js';
import { kubernetesFiles } from './kubernetes.js';
import { includes, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES } from './platforms.js';
import { railwayFiles } from './railway.js';

/**
 * Renders the deployment's files (no disk access).
 *
 * @example
 * const files = generateFiles(buildDeployment({ platform: 'heroku' }, process.cwd()).deployment);
 */
export function generateFiles(deployment: Deployment): GeneratedFile[] {
  const files = [...configFiles(deployment.config), ...checklistFiles(deployment), ...envTemplateFiles(deployment)];
  if (deployment.platforms.some((platform) => PLATFORM_PROFILES[platform].usesImage)) files.push(...dockerFiles(deployment));
  if (includes(deployment, 'kubernetes')) files.push(...kubernetesFiles(deployment));
  if (includes(deployment, 'cloud-run')) files.push(...cloudRunFiles(deployment));
  if (includes(deployment, 'heroku')) files.push(...herokuFiles(deployment));
  if (includes(deployment, 'railway')) files.push(...railwayFiles(deployment));
  return files;
}
