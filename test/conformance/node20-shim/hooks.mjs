/**
 * Module resolve hook of the Node 20 shim (see register.mjs for why): an import of `fs` or
 * `node:fs` made from inside `@modelcontextprotocol/conformance` resolves to fs-glob.mjs. Every
 * other import, including the package's own dependencies, resolves as usual.
 */
const CONFORMANCE_PACKAGE = '/@modelcontextprotocol/conformance/';

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes(CONFORMANCE_PACKAGE)) {
    return { url: new URL('./fs-glob.mjs', import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
