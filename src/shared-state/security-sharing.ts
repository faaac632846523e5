/**
 * @module shared-state/security-sharing
 * How the security decisions of one replica reach the others over Redis: bans and key
 * restrictions are stored (see `store/redis/security-state`) and announced on the bus; those of
 * other replicas are applied as they arrive, and those made before this replica started by
 * the start-up sync. What was decided while Redis failed is written again once it answers.
 */

import type { BanList } from '../security/ban-list.js';
import type { KeySource } from '../security/key-source.js';
import type { RedisResilience } from '../store/redis/resilience.js';
import type { RedisSecurityState } from '../store/redis/security-state.js';
import type { EventBus, KeyRestriction } from '../store/types.js';

/** What sharing needs from the Redis shared state. */
export interface SecurityLink {
  readonly replicaId: string;
  readonly bus: EventBus;
  readonly securityState: RedisSecurityState;
  readonly resilience: RedisResilience;
  /** A Redis call failed (counted and logged like a limiter fallback). */
  readonly onFailure: (error: unknown) => void;
}

/** Shares bans decided here and applies bans decided elsewhere. */
export function shareBans(link: SecurityLink, bans: BanList): void {
  const { replicaId, bus, securityState, resilience, onFailure } = link;
  bans.onShare((ban) => {
    securityState
      .saveBan(ban.client, ban.until)
      .then(() => bus.publish({ type: 'ban', origin: replicaId, client: ban.client, until: ban.until }))
      .catch(onFailure);
  });
  bus.onMessage((message) => {
    if (message.type === 'ban' && message.origin !== replicaId) bans.ban(message.client, message.until, false);
  });
  // Bans decided before this replica started: applied by the start-up sync (see ready()).
  resilience.targets.applyBan = (client, until) => bans.ban(client, until, false);
  // Bans decided here while Redis failed are written again once it answers.
  resilience.onRecovered(async () => {
    for (const ban of bans.list()) await securityState.saveBan(ban.client, ban.until);
  });
}

/** Shares key revocations/expiries and applies those of other replicas. */
export function shareKeys(link: SecurityLink, source: KeySource): void {
  const { replicaId, bus, securityState, resilience, onFailure } = link;
  // This replica's own restrictions, written again after start-up sync and recovery: the
  // first write happens before Redis is connected, and an emptied Redis forgot them.
  let own: KeyRestriction[] = [];
  const publish = async (restrictions: KeyRestriction[]): Promise<void> => {
    if (restrictions.length === 0) return;
    await securityState.saveRestrictions(restrictions);
    await bus.publish({ type: 'keys_restricted', origin: replicaId, restrictions });
  };
  source.shareRestrictionsWith((restrictions) => {
    own = restrictions;
    publish(restrictions).catch(onFailure);
  });
  resilience.onRecovered(() => publish(own));
  bus.onMessage((message) => {
    if (message.type === 'keys_restricted' && message.origin !== replicaId) source.applyRestrictions(message.restrictions);
  });
  // Restrictions written before this replica started: applied by the start-up sync (see ready()).
  resilience.targets.applyRestrictions = (restrictions) => source.applyRestrictions(restrictions);
}
