/**
 * @module bench/no-tunnel
 * Replaces `pipenet` in the development tree (a root devDependency, `file:bench/no-tunnel`). pipenet requires
 * Node >= 22 and is only reached by the `mcp-proxy --tunnel` CLI that fastmcp (a benchmark
 * comparator) pulls in; the benchmark imports fastmcp's library, which never loads it. Without
 * this, `npm ci` on Node 20 warns EBADENGINE and runs pipenet's dependency's install script.
 */

export async function pipenet() {
  throw new Error('pipenet is not installed in the mcp-warden dev tree (public tunnels are not used)');
}
