/**
 * @module server/observability
 * What the server tells its operator: the logger, the counters behind `/api/status`, the
 * Prometheus metrics, the audit trails, the security events that feed them, the refused-request
 * log, and the connection guard whose refusals they count.
 */

import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { connectionGuardFor, type ConnectionGuard } from '../http/connection-guard.js';
import { createRefusedRequestLog, type RefusedRequestLog } from '../http/hooks/request-log.js';
import { AuditLog } from '../observability/audit.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { SecurityEvents } from '../observability/security-events.js';
import { ServerStats } from '../observability/stats.js';
import { Late, type LateParts } from './late.js';
import type { WardenServerOptions } from './types.js';

/** The logger given in the options, or one at `config.logLevel`; logs the config warnings. */
export function createServerLogger(options: WardenServerOptions, config: Readonly<Config>): Logger {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);
  return logger;
}

export interface Observability {
  readonly stats: ServerStats;
  /** Present with `--monitoring`. */
  readonly metrics: Metrics | undefined;
  readonly connections: ConnectionGuard;
  readonly audit: AuditLog | undefined;
  readonly refusalAudit: AuditLog | undefined;
  readonly events: SecurityEvents;
  readonly refusedRequests: RefusedRequestLog;
}

function openAudit(config: Readonly<Config>, logger: Logger, path: string | undefined): Promise<AuditLog> | undefined {
  return path === undefined
    ? undefined
    : AuditLog.open({
        path,
        maxBytes: config.audit.maxBytes,
        maxFiles: config.audit.maxFiles,
        key: config.audit.key,
        onRotate: (head) => logger.info({ auditFile: path, auditSeq: head.seq, auditHash: head.hash }, 'audit log rotated (chain head)'),
        onError: (error) => logger.error({ err: error, auditFile: path }, 'audit log write failed; retrying'),
      });
}

export async function createObservability(config: Readonly<Config>, logger: Logger, now: () => number, late: Pick<LateParts, 'sessions' | 'bans' | 'handler'>): Promise<Observability> {
  const activeSessions = (): number => late.sessions.get()?.size ?? 0;
  const stats = new ServerStats({ enabled: config.monitoring, activeSessions, listenStreams: () => late.handler.get()?.listen.size ?? 0 });
  // The guard counts its refusals in the metrics, which report the connections it holds.
  const guard = new Late<ConnectionGuard>();
  const metrics = config.monitoring
    ? new Metrics({ activeSessions, activeBans: () => late.bans.get()?.list().length ?? 0, openConnections: () => guard.get()?.open ?? 0 })
    : undefined;
  const connections = guard.set(connectionGuardFor(config, { logger, onRefused: (reason) => metrics?.connectionRefused(reason) }));
  const audit = await openAudit(config, logger, config.audit.log);
  // Refusals and their aggregates may go to a file of their own, so no flood rotates the main trail.
  const refusalAudit = await openAudit(config, logger, config.audit.refusalsLog);
  const events = new SecurityEvents({
    stats,
    logger,
    metrics,
    audit,
    refusalAudit,
    auditArguments: config.audit.arguments,
    aggregate: { intervalMs: config.audit.aggregateInterval * 1000, now },
  });
  const refusedRequests = createRefusedRequestLog({ logger, intervalMs: config.logAggregateInterval * 1000, now });
  return { stats, metrics, connections, audit, refusalAudit, events, refusedRequests };
}
