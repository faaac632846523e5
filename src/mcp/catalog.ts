/**
 * @module mcp/catalog
 * The tool list for `GET /api/tools`, read from a private instance of the served MCP server
 * through the official SDK client over an in-memory transport, so it is exactly what an MCP
 * client would see (names, descriptions, JSON Schemas, annotations).
 */

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import type { ServerFactory, ServerLike } from './sessions.js';
import { ANONYMOUS } from './transport/streamable-http.js';

export class ToolCatalog {
  readonly #factory: ServerFactory;
  #client: Client | undefined;
  #server: ServerLike | undefined;

  constructor(factory: ServerFactory) {
    this.#factory = factory;
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

  async close(): Promise<void> {
    await this.#client?.close();
    await this.#server?.close();
    this.#client = undefined;
    this.#server = undefined;
  }
}
