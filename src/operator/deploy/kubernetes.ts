/**
 * @module operator/deploy/kubernetes
 * Kubernetes manifests: a hardened Deployment (non-root, read-only root filesystem, no
 * privilege escalation, every capability dropped, probes on /health, resources), its Service,
 * a PodDisruptionBudget, a NetworkPolicy, an Ingress with TLS when a domain is given, and a
 * Secret template with no value. The key comes from the Secret through `secretKeyRef`.
 */

import { PLATFORM_PROFILES } from './platforms.js';
import { RUN_AS_UID } from './docker.js';
import { APP_NAME, CLI_ENTRY, ENV_KEYS_FLAG, KEYS_SECRET, SHARED_SECRET_COMMAND, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { yamlFile } from './yaml.js';

export const MANIFEST_FILE = 'kubernetes/mcp-warden.yaml';
export const SECRET_TEMPLATE_FILE = 'kubernetes/secret.template.yaml';
/** Namespace of the ingress controller allowed through the NetworkPolicy (ingress-nginx's default). */
export const INGRESS_NAMESPACE = 'ingress-nginx';
export const TLS_SECRET = 'mcp-warden-tls';

const LABELS = { 'app.kubernetes.io/name': APP_NAME, 'app.kubernetes.io/component': 'server' };
/** Memory limit in MiB; the V8 heap is capped below it so the process fails in JS, not by OOM kill. */
const MEMORY_LIMIT_MIB = 512;
/** Seconds the pod keeps serving after it is marked terminating, while endpoints are updated. */
const PRE_STOP_SECONDS = 5;

function probe(periodSeconds: number, failureThreshold: number, path: '/health' | '/ready' = '/health'): Record<string, unknown> {
  // /health and /ready are exempt from the Host check and the rate limit, so kubelet probes by pod IP pass.
  // Liveness asks /health (alive, even with Redis degraded: a restart would not fix Redis);
  // readiness asks /ready (503 until the revocations and bans in Redis are applied).
  return { httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

function environment(deployment: Deployment): Array<Record<string, unknown>> {
  const env: Array<Record<string, unknown>> = [
    { name: 'MCP_API_KEYS', valueFrom: { secretKeyRef: { name: KEYS_SECRET, key: 'MCP_API_KEYS' } } },
    { name: 'MCP_TRUST_PROXY', value: PLATFORM_PROFILES.kubernetes.trustProxy },
    { name: 'HOST', value: '0.0.0.0' },
    { name: 'PORT', value: String(deployment.config.port) },
    { name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.floor(MEMORY_LIMIT_MIB * 0.75)}` },
  ];
  if (isReplicated(deployment)) {
    // Shared state between the replicas: required (the server exits 2 with a Redis URL and no
    // shared secret, and without Redis each replica would keep its own limits and sessions).
    env.push({ name: 'MCP_REDIS_URL', valueFrom: { secretKeyRef: { name: KEYS_SECRET, key: 'MCP_REDIS_URL' } } });
    env.push({ name: 'MCP_SHARED_SECRET', valueFrom: { secretKeyRef: { name: KEYS_SECRET, key: 'MCP_SHARED_SECRET' } } });
  }
  return env;
}

function deploymentManifest(deployment: Deployment): Record<string, unknown> {
  const port = deployment.config.port;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: APP_NAME, labels: LABELS },
    spec: {
      replicas: deployment.replicas,
      selector: { matchLabels: LABELS },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: LABELS },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: PRE_STOP_SECONDS + deployment.config.shutdownTimeout + 5,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_UID,
            runAsGroup: RUN_AS_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(isReplicated(deployment)
            ? {
                topologySpreadConstraints: [
                  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: LABELS } },
                ],
              }
            : {}),
          containers: [
            {
              name: APP_NAME,
              image: deployment.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', CLI_ENTRY],
              args: [ENV_KEYS_FLAG],
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env: environment(deployment),
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '1', memory: `${MEMORY_LIMIT_MIB}Mi` },
              },
              startupProbe: probe(2, 30),
              livenessProbe: probe(10, 3),
              readinessProbe: probe(5, 2, '/ready'),
              lifecycle: { preStop: { exec: { command: ['node', '-e', `setTimeout(() => {}, ${PRE_STOP_SECONDS * 1000})`] } } },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_UID,
                runAsGroup: RUN_AS_UID,
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
    },
  };
}

/**
 * Session affinity of several replicas (README "Gateway replicas"): a 2025-era session's stdio
 * children live on the replica that created it, so every request of the session must go back
 * there. A hash of `Mcp-Session-Id` alone cannot do it: the `initialize` that creates a session
 * carries no id, lands on any replica, and the new id's hash may point at another one. The
 * client's address is the key a proxy can use for both (an HAProxy stick table learning the
 * id from the response also works; see the README).
 */
const AFFINITY_SECONDS = 10_800;

function service(deployment: Deployment): Record<string, unknown> {
  const spec: Record<string, unknown> = { type: 'ClusterIP', selector: LABELS, ports: [{ name: 'http', port: deployment.config.port, targetPort: 'http', protocol: 'TCP' }] };
  if (isReplicated(deployment)) {
    // In-cluster clients (and ingress controllers that route through the Service) stay on one pod.
    spec['sessionAffinity'] = 'ClientIP';
    spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: AFFINITY_SECONDS } };
  }
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: APP_NAME, labels: LABELS }, spec };
}

function disruptionBudget(): Record<string, unknown> {
  // maxUnavailable 1 keeps replicas-1 serving during drains and never blocks a drain of one pod.
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: APP_NAME, labels: LABELS }, spec: { maxUnavailable: 1, selector: { matchLabels: LABELS } } };
}

function networkPolicy(deployment: Deployment): Record<string, unknown> {
  const egress: Array<Record<string, unknown>> = [
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ];
  if (isReplicated(deployment)) egress.push({ ports: [{ protocol: 'TCP', port: 6379 }] });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: APP_NAME, labels: LABELS },
    spec: {
      podSelector: { matchLabels: LABELS },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_NAMESPACE } } }],
          ports: [{ protocol: 'TCP', port: deployment.config.port }],
        },
      ],
      egress,
    },
  };
}

function ingress(deployment: Deployment, domain: string): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: APP_NAME,
      labels: LABELS,
      annotations: {
        // MCP answers may be SSE streams: no buffering, and long reads for the GET stream.
        'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
        'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
        // Several replicas: each client address goes to one pod (ingress-nginx hashes to endpoints
        // directly), so a 2025 session's initialize and its later requests meet the same children.
        ...(isReplicated(deployment) ? { 'nginx.ingress.kubernetes.io/upstream-hash-by': '$binary_remote_addr' } : {}),
      },
    },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [domain], secretName: TLS_SECRET }],
      rules: [
        {
          host: domain,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: APP_NAME, port: { name: 'http' } } } }] },
        },
      ],
    },
  };
}

function secretTemplate(deployment: Deployment): Record<string, unknown> {
  const data: Record<string, string> = { MCP_API_KEYS: '' };
  if (isReplicated(deployment)) {
    data['MCP_REDIS_URL'] = '';
    data['MCP_SHARED_SECRET'] = '';
  }
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: KEYS_SECRET, labels: LABELS }, type: 'Opaque', stringData: data };
}

export function kubernetesFiles(deployment: Deployment): GeneratedFile[] {
  const documents = [deploymentManifest(deployment), service(deployment), disruptionBudget(), networkPolicy(deployment)];
  if (deployment.domain !== undefined) documents.push(ingress(deployment, deployment.domain));
  const header = [
    generatedBy(deployment),
    `Apply: kubectl apply -f ${repoPath(deployment, MANIFEST_FILE)} (after creating the Secret, see ${repoPath(deployment, SECRET_TEMPLATE_FILE)}).`,
    `Image: ${deployment.image}, built from ${repoPath(deployment, 'Dockerfile')}; push it where the cluster can pull it.`,
    `The NetworkPolicy admits traffic only from the ${INGRESS_NAMESPACE} namespace: change it if your ingress controller lives elsewhere.`,
    ...(deployment.domain === undefined
      ? ['No --domain was given, so no Ingress is generated: expose the Service through your own TLS-terminating ingress.']
      : [`The Ingress serves https://${deployment.domain} with the certificate in Secret ${TLS_SECRET} (cert-manager or kubectl create secret tls).`]),
  ];
  const secretHeader = [
    generatedBy(deployment),
    'A template only: it holds no key. Do not fill it in and commit it. Create the Secret directly instead:',
    `  mcp-warden keygen | kubectl create secret generic ${KEYS_SECRET} --from-file=MCP_API_KEYS=/dev/stdin`,
    'Better still, sync it from a secret manager (External Secrets Operator, Secrets Store CSI driver).',
    ...(isReplicated(deployment)
      ? [
          `${deployment.replicas} replicas share rate limits, sessions, bans and revocations through Redis; the Secret also needs:`,
          '  MCP_REDIS_URL: the Redis URL (rediss:// with a password; see the README for its maxmemory settings).',
          `  MCP_SHARED_SECRET: signs what the replicas exchange through Redis (the same on every replica, never in Redis): \`${SHARED_SECRET_COMMAND}\`.`,
          `  ${SHARED_SECRET_COMMAND} | tr -d '\\n' > shared-secret.txt   # and keys.txt, redis-url.txt likewise, then:`,
          `  kubectl create secret generic ${KEYS_SECRET} --from-file=MCP_API_KEYS=keys.txt --from-file=MCP_REDIS_URL=redis-url.txt --from-file=MCP_SHARED_SECRET=shared-secret.txt`,
        ]
      : []),
  ];
  return [
    { path: MANIFEST_FILE, content: yamlFile(header, documents) },
    { path: SECRET_TEMPLATE_FILE, content: yamlFile(secretHeader, [secretTemplate(deployment)]) },
  ];
}
