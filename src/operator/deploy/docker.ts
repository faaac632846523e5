/**
 * @module operator/deploy/docker
 * The Dockerfile (multi-stage: build with dev dependencies, run with production ones only, as
 * a non-root user, with a health check that needs no curl) and its .dockerignore. The image
 * carries mcp-warden.config.json and no key: keys arrive at run time through MCP_API_KEYS.
 */

import { CLI_ENTRY, CONFIG_FILE, ENV_KEYS_FLAG, generatedBy, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { hashComment } from './yaml.js';

/** The official Node image; `node` in it is uid/gid 1000, used numerically so Kubernetes can verify runAsNonRoot. */
export const BASE_IMAGE = 'node:20-bookworm-slim';
export const RUN_AS_UID = 1000;
/** Where the image keeps the app and its config. */
export const APP_DIR = '/app';
export const IMAGE_CONFIG_PATH = `${APP_DIR}/${CONFIG_FILE}`;

/** The health probe: slim images have no curl or wget, so Node's fetch does it. */
export function healthCheckScript(): string {
  return "fetch('http://127.0.0.1:'+(process.env.PORT||8443)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
}

function dockerfile(deployment: Deployment): string {
  const configInRepo = repoPath(deployment, CONFIG_FILE);
  const dockerfileInRepo = repoPath(deployment, 'Dockerfile');
  const lines = [
    hashComment([
      generatedBy(deployment),
      `Build from the repository root: docker build -f ${dockerfileInRepo} -t ${deployment.image} .`,
      `Run: docker run --rm -p 127.0.0.1:8443:8443 --env-file .env ${deployment.image}   (.env from ${repoPath(deployment, '.env.template')}; never commit it)`,
      'The image holds no API key; it refuses to start until MCP_API_KEYS is set.',
    ]),
    '',
    '# Stage 1: compile TypeScript with the dev dependencies.',
    `FROM ${BASE_IMAGE} AS build`,
    `WORKDIR ${APP_DIR}`,
    'COPY package.json package-lock.json ./',
    'RUN npm ci',
    'COPY tsconfig.json tsconfig.build.json ./',
    'COPY src ./src',
    'RUN npm run build',
    '',
    '# Stage 2: production dependencies and the compiled code only.',
    `FROM ${BASE_IMAGE} AS runtime`,
    'ENV NODE_ENV=production',
    `WORKDIR ${APP_DIR}`,
    'COPY package.json package-lock.json ./',
    'RUN npm ci --omit=dev && npm cache clean --force',
    `COPY --from=build ${APP_DIR}/dist ./dist`,
    'COPY public ./public',
    `COPY ${configInRepo} ${IMAGE_CONFIG_PATH}`,
    '# Files stay owned by root: the server user can read its code and config but not change them.',
    'ENV HOST=0.0.0.0',
    `ENV PORT=${deployment.config.port}`,
    `ENV MCP_CONFIG=${IMAGE_CONFIG_PATH}`,
    `USER ${RUN_AS_UID}:${RUN_AS_UID}`,
    `EXPOSE ${deployment.config.port}`,
    `HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ${JSON.stringify(['node', '-e', healthCheckScript()])}`,
    `ENTRYPOINT ${JSON.stringify(['node', CLI_ENTRY])}`,
    `CMD ${JSON.stringify([ENV_KEYS_FLAG])}`,
    '',
  ];
  return lines.join('\n');
}

function dockerignore(deployment: Deployment): string {
  return [
    hashComment([
      generatedBy(deployment),
      'Docker reads .dockerignore from the root of the build context: copy this file there',
      '(the Dockerfile only COPYs named paths, so secrets in .env never reach the image either way).',
    ]),
    '.git',
    'node_modules',
    'dist',
    'coverage',
    'test',
    'bench',
    '.env',
    '.env.*',
    '*.log',
    '*.pem',
    '*.key',
    '',
  ].join('\n');
}

export function dockerFiles(deployment: Deployment): GeneratedFile[] {
  return [
    { path: 'Dockerfile', content: dockerfile(deployment) },
    { path: '.dockerignore', content: dockerignore(deployment) },
  ];
}
