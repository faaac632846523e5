/**
 * @module operator/deploy/platforms
 * What mcp-warden deploy knows about each target platform: the proxy in front of the server
 * (and so the `MCP_TRUST_PROXY` value), how TLS, secrets and logs are handled there. The
 * manifests take the trust-proxy value from here and the checklist takes the reasons.
 */

/** Every platform `mcp-warden deploy --platform` accepts (besides `all`). */
export const PLATFORMS = ['docker', 'kubernetes', 'cloud-run', 'heroku', 'railway'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** One fact about a platform for the checklist: whether the generated files settle it, and why. */
export interface PlatformFact {
  readonly done: boolean;
  readonly why: string;
}

export interface PlatformProfile {
  readonly label: string;
  /** Whether the platform runs the image built from the generated Dockerfile. */
  readonly usesImage: boolean;
  /**
   * `MCP_TRUST_PROXY` set in this platform's manifest; undefined when no proxy is known
   * (X-Forwarded-For then stays ignored, the safe default).
   */
  readonly trustProxy: string | undefined;
  readonly trustProxyWhy: string;
  readonly secrets: PlatformFact;
  readonly logs: PlatformFact;
}

/** Facts per platform. TLS depends on `--domain` for Kubernetes, so it is decided in the checklist. */
export const PLATFORM_PROFILES: Readonly<Record<Platform, PlatformProfile>> = {
  docker: {
    label: 'Docker',
    usesImage: true,
    trustProxy: undefined,
    trustProxyWhy:
      'no proxy is known for a plain container, so X-Forwarded-For is ignored (the safe default). Behind one reverse proxy, run with `-e MCP_TRUST_PROXY=1`.',
    secrets: {
      done: false,
      why: 'pass `MCP_API_KEYS` from your secret manager at run time (`docker run --env-file` with a mode-0600 file, or Docker/Swarm secrets); never bake it into the image.',
    },
    logs: { done: false, why: 'JSON lines go to stdout: configure a logging driver or agent that ships container logs off the host.' },
  },
  kubernetes: {
    label: 'Kubernetes',
    usesImage: true,
    trustProxy: '1',
    trustProxyWhy:
      '`MCP_TRUST_PROXY=1`: the ingress controller is the one hop that connects to the pod and appends the client address to X-Forwarded-For. If a load balancer in front of the controller also appends an entry that the controller forwards, raise it to 2, or list the controller pods\' CIDR instead.',
    secrets: {
      done: false,
      why: '`MCP_API_KEYS` comes from the Kubernetes Secret `mcp-warden-api-keys`, which is only base64-encoded: enable encryption at rest and restrict who may read Secrets, or sync it from a secret manager (External Secrets Operator, Secrets Store CSI driver).',
    },
    logs: { done: false, why: 'JSON lines go to stdout: make sure a cluster log agent (Fluent Bit, Vector, your cloud\'s agent) ships container logs.' },
  },
  'cloud-run': {
    label: 'Cloud Run',
    usesImage: true,
    trustProxy: '1',
    trustProxyWhy:
      '`MCP_TRUST_PROXY=1`: Google\'s front end is the one hop that connects to the container and appends the client address. With an external Application Load Balancer in front of the service, use 2.',
    secrets: { done: true, why: '`MCP_API_KEYS` is read from the Secret Manager secret `mcp-warden-api-keys` (version `latest`); the service account needs `roles/secretmanager.secretAccessor` on it.' },
    logs: { done: true, why: 'stdout goes to Cloud Logging, which parses the JSON lines.' },
  },
  heroku: {
    label: 'Heroku',
    usesImage: false,
    trustProxy: '1',
    trustProxyWhy: '`MCP_TRUST_PROXY=1`: the Heroku router is the one hop in front of the dyno and appends the client address to X-Forwarded-For.',
    secrets: {
      done: false,
      why: '`MCP_API_KEYS` is a config var (app.json generates it with `"generator": "secret"`); config vars are readable by every collaborator on the app, so restrict access or sync them from a secret manager.',
    },
    logs: { done: false, why: 'Heroku keeps only the last 1,500 log lines: add a log drain (`heroku drains:add`) or a logging add-on.' },
  },
  railway: {
    label: 'Railway / Render',
    usesImage: false,
    trustProxy: '1',
    trustProxyWhy:
      '`MCP_TRUST_PROXY=1` (set by start.sh unless overridden): the platform\'s edge proxy is the hop in front of the service. Confirm it with the check above: if the logged ip is a proxy address, the platform adds more hops.',
    secrets: {
      done: false,
      why: 'set `MCP_API_KEYS` as a sealed variable (Railway) or a secret environment variable (Render, `sync: false` in render.yaml) and limit who can read the project\'s variables.',
    },
    logs: { done: false, why: 'platform log retention is short: add a log drain or integration to your log store.' },
  },
};
