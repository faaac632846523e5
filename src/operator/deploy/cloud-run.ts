/**
 * @module operator/deploy/cloud-run
 * Cloud Run service.yaml (Knative serving v1, as `gcloud run services replace` takes it): the
 * key from Secret Manager, concurrency, min/max instances, probes on /health and the
 * trust-proxy hop of Google's front end.
 */

import { CLI_ENTRY, ENV_KEYS_FLAG, KEYS_SECRET, REDIS_SECRET, APP_NAME, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
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
  const probe = { httpGet: { path: '/health', port }, timeoutSeconds: 2 };
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
              ],
              resources: { limits: { cpu: '1', memory: '512Mi' } },
              startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
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
          'MCP_REDIS_URL (shared rate-limit and session store, a later release): once it exists, add to env',
          `  - name: MCP_REDIS_URL, valueFrom.secretKeyRef: {name: ${REDIS_SECRET}, key: latest}`,
          '  (Cloud Run refuses references to missing secrets, so it is not listed until the secret is created).',
        ]
      : []),
  ];
  return [{ path: CLOUD_RUN_FILE, content: yamlFile(header, [service(deployment)]) }];
}
