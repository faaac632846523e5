/**
 * @module gateway/lister
 * The tool lister of `mcp-warden gateway pin` (`cli/gateway`): reads the config file's
 * upstreams, connects to each through the upstream layer (the same spawn, environment,
 * timeouts and caps as the server), lists its tools (every page) and closes the connection,
 * so no child outlives the command. One upstream failing does not stop the others: each
 * listing says whether it worked (the command then writes nothing).
 */

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { WardenError } from '../errors.js';
import type { ListRequest, ToolLister, UpstreamListing } from '../cli/gateway.js';
import { parseGatewayConfig, type EnvMap } from './config.js';
import { Upstream } from './upstream.js';

export interface ListerOptions {
  readonly env: EnvMap;
  readonly logger: Logger;
  /** Reads the config file (default `readFileSync` as UTF-8). */
  readonly readFile?: (path: string) => string;
}

/**
 * A {@link ToolLister} over the real upstreams.
 *
 * @example
 * const code = await runGatewayPin(options, { list: upstreamToolLister({ env: process.env, logger }) });
 */
export function upstreamToolLister(options: ListerOptions): ToolLister {
  return async (request: ListRequest): Promise<readonly UpstreamListing[]> => {
    let text: string;
    try {
      text = (options.readFile ?? ((path: string) => readFileSync(path, 'utf8')))(request.configPath);
    } catch (cause) {
      throw new WardenError('WARDEN_ERR_CONFIG', { message: `config file ${request.configPath}: cannot be read`, cause });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new WardenError('WARDEN_ERR_CONFIG', { message: `config file ${request.configPath}: not valid JSON`, cause });
    }
    const config = parseGatewayConfig(raw, options.env, { configPath: request.configPath });
    if (config === undefined) throw new WardenError('WARDEN_ERR_CONFIG', { message: `config file ${request.configPath}: no upstream servers (mcpServers)` });
    const wanted = request.upstreams === undefined ? config.upstreams : config.upstreams.filter((upstream) => request.upstreams?.includes(upstream.name));
    return Promise.all(
      wanted.map(async (upstreamConfig): Promise<UpstreamListing> => {
        const upstream = new Upstream(upstreamConfig, { logger: options.logger, parentEnv: options.env });
        try {
          const connection = await upstream.connect();
          try {
            const { tools } = await connection.request((client, requestOptions) => client.listTools(undefined, { ...requestOptions, cacheMode: 'bypass' }));
            return { upstream: upstreamConfig.name, ok: true, tools };
          } finally {
            await connection.close();
          }
        } catch (error) {
          return { upstream: upstreamConfig.name, ok: false, error: error instanceof WardenError ? error.message : 'listing failed' };
        }
      }),
    );
  };
}
