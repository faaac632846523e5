/**
 * @module bench/servers/raw-node
 * The practical ceiling: node:http reading the body, JSON.parse, and answering the JSON-RPC
 * message directly (initialize with a session id, notifications with 202, tools/call echo).
 * No MCP SDK, no validation, no auth: what one JSON-RPC round trip costs on this machine.
 */

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { announceReady, serveRunnerProtocol } from '../lib/child.mjs';

function answer(res, status, payload, headers = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function handle(message, res) {
  if (message === null || typeof message !== 'object' || message.jsonrpc !== '2.0') {
    answer(res, 400, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
    return;
  }
  if (message.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  if (message.method === 'initialize') {
    const result = {
      protocolVersion: message.params?.protocolVersion ?? '2025-11-25',
      capabilities: { tools: {} },
      serverInfo: { name: 'raw-node', version: '1.0.0' },
    };
    answer(res, 200, { jsonrpc: '2.0', id: message.id, result }, { 'mcp-session-id': randomUUID() });
    return;
  }
  if (message.method === 'tools/call' && message.params?.name === 'echo') {
    const text = String(message.params.arguments?.text ?? '');
    answer(res, 200, { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text }] } });
    return;
  }
  answer(res, 200, { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } });
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
      return;
    }
    handle(message, res);
  });
});

server.listen(0, '127.0.0.1', () => {
  serveRunnerProtocol(() => new Promise((resolve) => server.close(() => resolve())));
  announceReady('raw-node', server.address().port);
});
