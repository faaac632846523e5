/**
 * @module mcp/tools/confirm-action
 * The built-in `confirm_action` tool: a confirmation step before a destructive-looking action,
 * which changes nothing. It shows multi round-trip requests with integrity at work. The first
 * call answers `input_required` with an elicitation ("confirm?") and a `requestState` sealed to
 * the caller, the tool and its arguments; only a retry carrying that state (checked by the SDK
 * seam before the handler runs) and an accepted `confirm: true` is confirmed. A 2026-07-28
 * client retries itself; on a 2025 session the SDK's legacy shim asks the client with a real
 * `elicitation/create` and re-enters the handler.
 */

import { inputRequired, inputResponse, type ClientCapabilities, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { textResult, toolError, type BuiltinContext } from './context.js';

export const CONFIRM_ACTION = 'confirm_action';
/** The `inputRequests` key of the confirmation. */
const CONFIRM_KEY = 'confirm';

const confirmInput = {
  action: z.enum(['delete', 'rotate']).describe('What would be done'),
  // Shown to the user in the confirmation: printable text only.
  target: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'no control characters')
    .describe('What it would be done to (at most 200 characters)'),
};

const CONFIRM_SCHEMA = {
  type: 'object' as const,
  properties: { confirm: { type: 'boolean' as const, title: 'Confirm', description: 'Yes to go ahead' } },
  required: ['confirm'],
};

/** Form elicitation declared: `elicitation.form`, or a bare `elicitation: {}` (the rule before modes existed). */
export function supportsFormElicitation(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  if (typeof elicitation !== 'object' || elicitation === null) return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

/** The state a confirmation carries between its two rounds (signed, readable by the client). */
interface ConfirmState {
  readonly step: 'confirm';
}

/** Registers `confirm_action` on `server` (whose requestState hook is `context.requestState.verify`). */
export function registerConfirmAction(server: McpServer, context: BuiltinContext): void {
  server.registerTool(
    CONFIRM_ACTION,
    {
      title: 'Confirm an action',
      description:
        'Asks the user to confirm a destructive-looking action (delete or rotate a target) and reports what would be done. ' +
        'Nothing is changed: it demonstrates a confirmation step over multi round-trip requests with a signed requestState. ' +
        'Needs a client that supports elicitation.',
      inputSchema: confirmInput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ action, target }, ctx) => {
      // Never send an input request of a kind the client did not declare (MRTR server requirement 7).
      if (!supportsFormElicitation(context.capabilities.of(ctx))) {
        return toolError('confirm_action needs a client that supports elicitation; this client did not declare it');
      }
      // Present only when the SDK seam verified it (requestState.verify): sealed to this caller,
      // this tool and these arguments, and unexpired.
      const state = ctx.mcpReq.requestState<ConfirmState>();
      const answer = inputResponse(ctx.mcpReq.inputResponses, CONFIRM_KEY);
      if (state?.step !== 'confirm' || answer.kind !== 'elicit') {
        const sealed: ConfirmState = { step: 'confirm' };
        return inputRequired({
          inputRequests: {
            [CONFIRM_KEY]: inputRequired.elicit({
              message: `Confirm: ${action} ${target}? (mcp-warden's confirm_action changes nothing.)`,
              requestedSchema: CONFIRM_SCHEMA,
            }),
          },
          requestState: context.requestState.mint(sealed, ctx),
        });
      }
      if (answer.action === 'accept' && answer.content?.['confirm'] === true) return textResult(`Confirmed: would ${action} ${target}`);
      return textResult(`Cancelled: ${action} ${target} was not confirmed; nothing was done`);
    },
  );
}
