/**
 * @module operator/deploy/cloud-run
 * Cloud Run service.yaml (Knative serving v1, as `gcloud run services replace` takes it): the
 * key (and, with several instances, the Redis URL and the shared secret) from Secret Manager,
 * concurrency, min/max instances, a startup probe on /ready (traffic waits for the start-up
 * sync of shared state), liveness on /health, and the trust-proxy hop of Google's front end.
 */

import { CLI_ENTRY, ENV_KEYS_FLAG, KEYS_SECRET, REDIS_SECRET, SHARED_SECRET, SHARED_SECRET_COMMAND, APP_NAME, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES } from './platforms.js';
import { yamlFile } from './yaml.js';

export const CLOUD_RUN_FILE = 'cloud-run/service.yaml';
/** Requests one instance serves at once (Cloud Run's default; SSE streams count while open). */
export const CONCURRENCY = 80;
/** Longest request (seconds): Cloud Run's maximum, so SSE streams are not cut early. */
export const REQUEST_TIMEOUT = 3600;

/** Instances kept warm and the ceiling: one warm instance keeps sessions alive; replicas caps scale-out. */
export function instanceRange(deployment: Deployment): { readonly min: number; readonly max: number } {
  return { min: 1, max: deployment.replicas };
}

function service(deployment: Deployment): Record<string, unknown> {
  const { min, max } = instanceRange(deployment);
  const port = deployment.config.port;
  const probe = (path: '/health' | '/ready'): Record<string, unknown> => ({ httpGet: { path, port }, timeoutSeconds: 2 });
  const shared = isReplicated(deployment)
    ? [
        { name: 'MCP_REDIS_URL', valueFrom: { secretKeyRef: { name: REDIS_SECRET, key: 'latest' } } },
        { name: 'MCP_SHARED_SECRET', valueFrom: { secretKeyRef: { name: SHARED_SECRET, key: 'latest' } } },
      ]
    : [];
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: APP_NAME, annotations: { 'run.googleapis.com/ingress': 'all' } },
    spec: {
      template: {
        metadata: {
          annotations: {
            'autoscaling.knative.dev/minScale': String(min),
            'autoscaling.knative.dev/maxScale': String(max),
            'run.googleapis.com/execution-environment': 'gen2',
            'run.googleapis.com/startup-cpu-boost': 'true',
            // Several instances: Cloud Run's session affinity (a cookie) keeps a client on one
            // instance, where its 2025 session's gateway children live (best effort).
            ...(max > 1 ? { 'run.googleapis.com/sessionAffinity': 'true' } : {}),
          },
        },
        spec: {
          containerConcurrency: CONCURRENCY,
          timeoutSeconds: REQUEST_TIMEOUT,
          containers: [
            {
              image: deployment.image,
              command: ['node', CLI_ENTRY],
              args: [ENV_KEYS_FLAG],
              // Cloud Run sets PORT to this containerPort; PORT itself is reserved.
              ports: [{ name: 'http1', containerPort: port }],
              env: [
                { name: 'MCP_API_KEYS', valueFrom: { secretKeyRef: { name: KEYS_SECRET, key: 'latest' } } },
                { name: 'MCP_TRUST_PROXY', value: PLATFORM_PROFILES['cloud-run'].trustProxy },
                { name: 'HOST', value: '0.0.0.0' },
                ...shared,
              ],
              resources: { limits: { cpu: '1', memory: '512Mi' } },
              // Cloud Run sends traffic once the startup probe passes: /ready waits for the shared state.
              startupProbe: { ...probe('/ready'), periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { ...probe('/health'), periodSeconds: 10, failureThreshold: 3 },
            },
          ],
        },
      },
    },
  };
}

export function cloudRunFiles(deployment: Deployment): GeneratedFile[] {
  const file = repoPath(deployment, CLOUD_RUN_FILE);
  const header = [
    generatedBy(deployment),
    `Deploy: gcloud run services replace ${file} --region REGION`,
    `Image: push ${deployment.image} (built from ${repoPath(deployment, 'Dockerfile')}) to Artifact Registry and use that reference.`,
    `Key: mcp-warden keygen | tr -d '\\n' | gcloud secrets create ${KEYS_SECRET} --data-file=-`,
    `  and grant the service's account roles/secretmanager.secretAccessor on ${KEYS_SECRET}.`,
    'mcp-warden checks the API key itself; let clients reach it with',
    `  gcloud run services add-iam-policy-binding ${APP_NAME} --region REGION --member=allUsers --role=roles/run.invoker`,
    ...(isReplicated(deployment)
      ? [
          `${deployment.replicas} instances share rate limits, sessions, bans and revocations through Redis (Memorystore):`,
          `  printf %s 'rediss://...' | gcloud secrets create ${REDIS_SECRET} --data-file=-`,
          `  ${SHARED_SECRET_COMMAND} | tr -d '\\n' | gcloud secrets create ${SHARED_SECRET} --data-file=-`,
          `  and grant the same accessor role on both (Cloud Run refuses references to missing secrets).`,
          '  The shared secret signs what the instances exchange through Redis: never store it in Redis.',
        ]
      : []),
  ];
  return [{ path: CLOUD_RUN_FILE, content: yamlFile(header, [service(deployment)]) }];
}
