/**
 * @module operator/check/registry
 * Every check by name, in the order they run.
 */

import { authCheck } from './checks/auth.js';
import { corsCheck } from './checks/cors.js';
import { errorsCheck } from './checks/errors.js';
import { headersCheck } from './checks/headers.js';
import { healthCheck } from './checks/health.js';
import { mcpCheck } from './checks/mcp.js';
import { modernCheck } from './checks/modern.js';
import { originCheck } from './checks/origin.js';
import { protocolCheck } from './checks/protocol.js';
import { rateCheck } from './checks/rate.js';
import type { CheckDefinition, CheckName } from './types.js';

export const CHECKS: Readonly<Record<CheckName, CheckDefinition>> = {
  health: healthCheck,
  auth: authCheck,
  origin: originCheck,
  protocol: protocolCheck,
  modern: modernCheck,
  cors: corsCheck,
  headers: headersCheck,
  errors: errorsCheck,
  mcp: mcpCheck,
  rate: rateCheck,
};
