/**
 * @module store/redis/replica-trust
 * What makes Redis a neighbour rather than an authority for one replica: the shared secret,
 * the signed bus envelope and the record seal built from it, and one place where what they
 * reject is counted (`mcp_warden_bus_dropped_total`, `mcp_warden_redis_records_rejected_total`)
 * and logged at most once per interval, so a flood of forgeries cannot flood the log either.
 */

import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import { SharedSecret } from '../../security/shared-secret.js';
import { RecordSeal, type RecordKind } from './sealed-records.js';
import { BusCodec, type BusDropReason } from './signed-bus.js';

/** How often, at most, a warn line reports rejected messages and records. */
const REJECT_LOG_INTERVAL_MS = 10_000;

export interface ReplicaTrust {
  /** The shared secret itself (signing keys in Redis are encrypted with a key derived from it). */
  readonly secret: SharedSecret;
  readonly codec: BusCodec;
  readonly seal: RecordSeal;
  /** Reports a dropped bus message (never throws). */
  onBusDrop(reason: BusDropReason, error?: unknown): void;
  /** Reports an error of the subscriber connection. */
  onClientError(error: unknown): void;
}

export interface ReplicaTrustOptions {
  readonly sharedSecret: string;
  readonly sharedSecretPrevious?: string | undefined;
  /** The bus channel (part of every message tag). */
  readonly channel: string;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly now?: () => number;
}

export function createReplicaTrust(options: ReplicaTrustOptions): ReplicaTrust {
  const { logger, metrics } = options;
  const now = options.now ?? Date.now;
  const secret = new SharedSecret({ current: options.sharedSecret, previous: options.sharedSecretPrevious });
  let pending: Record<string, number> = {};
  let lastLog = 0;
  const report = (what: string, error?: unknown): void => {
    pending[what] = (pending[what] ?? 0) + 1;
    const at = now();
    if (at - lastLog < REJECT_LOG_INTERVAL_MS) return;
    lastLog = at;
    // Counts and reasons only: the rejected content came from whoever can write to Redis.
    logger.warn({ rejected: pending, detail: error instanceof Error ? error.name : undefined }, 'ignored messages or records in Redis that failed their checks (see the README trust model)');
    pending = {};
  };
  return {
    secret,
    codec: new BusCodec({ secret, channel: options.channel, now }),
    seal: new RecordSeal(secret, (kind: RecordKind) => {
      metrics?.recordRejected(kind);
      report(`record:${kind}`);
    }),
    onBusDrop(reason, error) {
      metrics?.busDropped(reason);
      report(`bus:${reason}`, error);
    },
    onClientError(error) {
      metrics?.busDropped('client_error');
      report('bus:client_error', error);
    },
  };
}
