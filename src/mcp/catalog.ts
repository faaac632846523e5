/**
 * @module mcp/catalog
 * The tool list for `GET /api/tools`, read from a private instance of the served MCP server
 * through the official SDK client over an in-memory transport, so it is exactly what an MCP
 * client would see (names, descriptions, JSON Schemas, annotations). An operator sees every
 * tool; any other credential only the tools it may call (`mcp/access`).
 */

import { Client, InMemoryTransport, type Tool } from '@modelcontextprotocol/client';
import { ANONYMOUS, type Principal } from '../security/identity.js';
import { NO_OPERATOR_PARTS, visibleResult, type AccessRules } from './access.js';
import { VERSION } from '../version.js';
import type { ServerFactory, ServerLike } from './sessions.js';

export class ToolCatalog {
  readonly #factory: ServerFactory;
  readonly #access: AccessRules;
  #client: Client | undefined;
  #server: ServerLike | undefined;

  constructor(factory: ServerFactory, access: AccessRules = NO_OPERATOR_PARTS) {
    this.#factory = factory;
    this.#access = access;
  }

  async start(): Promise<void> {
    if (this.#client !== undefined) return;
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = await this.#factory({ sessionId: undefined, principal: ANONYMOUS });
    await server.connect(serverSide);
    const client = new Client({ name: 'mcp-warden-catalog', version: VERSION });
    await client.connect(clientSide);
    this.#server = server;
    this.#client = client;
  }

  /** Every tool the server lists (following pagination). */
  async list(): Promise<Tool[]> {
    const client = this.#client;
    if (client === undefined) throw new Error('tool catalog not started');
    if (client.getServerCapabilities()?.tools === undefined) return [];
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined && tools.length < 10_000);
    return tools;
  }

  /** The tools `principal` may see: all for an operator, else those it may call (none for nobody). */
  async visibleTo(principal: Principal | null): Promise<Tool[]> {
    if (principal === null) return [];
    const tools = await this.list();
    if (principal.operator === true) return tools;
    return visibleResult(principal, this.#access, 'tools/list', undefined, { tools })['tools'] as Tool[];
  }

  async close(): Promise<void> {
    await this.#client?.close();
    await this.#server?.close();
    this.#client = undefined;
    this.#server = undefined;
  }
}
