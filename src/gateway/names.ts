/**
 * @module gateway/names
 * How the gateway names what its upstreams offer, and how it finds the upstream again.
 *
 * - {@link View}: the upstreams one endpoint serves. On `/mcp` (every upstream) a tool, prompt,
 *   resource or template `name` is served as `<upstream><separator><name>`; on `/mcp/<upstream>`
 *   (one upstream alone) names are the upstream's own. Tool scopes always use the prefixed
 *   name, whichever endpoint serves the tool ({@link View.scopeName}). The config refuses
 *   upstream names that would make a prefixed name ambiguous (`gateway/config` `prefixCollisions`),
 *   so {@link View.route} finds at most one upstream.
 * - {@link UriRoutes}: resource URIs are served unchanged (a URI is an address, and clients and
 *   models pass them on), so `resources/read` is routed by where the URI was seen: the URIs of
 *   `resources/list` answers (the last upstream that listed a URI wins), then the literal prefix
 *   of each upstream's URI templates (`file:///{path}` → `file:///`; the longest prefix wins, a
 *   tie between upstreams is ambiguous). Bounded: at most `maxUris` listed URIs are remembered,
 *   the oldest forgotten first.
 */

/** Where a served name goes: the upstream and the name it has there. */
export interface Routed {
  readonly upstream: string;
  readonly name: string;
}

/** The upstreams of one endpoint and how their names are served there. */
export class View {
  readonly upstreams: readonly string[];
  readonly separator: string;
  /** True on `/mcp` (names prefixed), false for an upstream alone. */
  readonly prefixed: boolean;
  readonly #members: ReadonlySet<string>;

  constructor(upstreams: readonly string[], separator: string, prefixed: boolean) {
    if (!prefixed && upstreams.length !== 1) throw new Error('an unprefixed view serves exactly one upstream');
    this.upstreams = Object.freeze([...upstreams]);
    this.separator = separator;
    this.prefixed = prefixed;
    this.#members = new Set(upstreams);
  }

  has(upstream: string): boolean {
    return this.#members.has(upstream);
  }

  /** The served name of `upstream`'s `name`. */
  serve(upstream: string, name: string): string {
    return this.prefixed ? `${upstream}${this.separator}${name}` : name;
  }

  /**
   * The upstream and original name of a served name; undefined when no upstream of the view
   * has that prefix.
   *
   * @example
   * new View(['everything', 'memory'], '__', true).route('memory__read_graph'); // { upstream: 'memory', name: 'read_graph' }
   */
  route(served: string): Routed | undefined {
    if (!this.prefixed) return { upstream: this.upstreams[0] as string, name: served };
    for (const upstream of this.upstreams) {
      const prefix = `${upstream}${this.separator}`;
      if (served.startsWith(prefix)) return { upstream, name: served.slice(prefix.length) };
    }
    return undefined;
  }

  /** The name tool scopes give a served tool: always `<upstream><separator><name>`. */
  scopeName(served: string): string {
    return this.prefixed ? served : `${this.upstreams[0] as string}${this.separator}${served}`;
  }
}

/** The literal part of a URI template before its first expression (`file:///{path}` → `file:///`). */
export function templatePrefix(uriTemplate: string): string {
  const brace = uriTemplate.indexOf('{');
  return brace === -1 ? uriTemplate : uriTemplate.slice(0, brace);
}

/** Which upstream serves a URI (see the module header). */
export class UriRoutes {
  readonly #maxUris: number;
  /** URI → upstream that listed it last; insertion order is age. */
  readonly #listed = new Map<string, string>();
  /** Upstream → the literal prefixes of its templates (non-empty ones only). */
  readonly #templates = new Map<string, readonly string[]>();

  constructor(maxUris = 10_000) {
    this.#maxUris = Math.max(1, maxUris);
  }

  /** Records the URIs `upstream` just listed. */
  noteResources(upstream: string, uris: Iterable<string>): void {
    for (const uri of uris) {
      this.#listed.delete(uri);
      this.#listed.set(uri, upstream);
      if (this.#listed.size > this.#maxUris) this.#listed.delete(this.#listed.keys().next().value as string);
    }
  }

  /** Replaces the template prefixes of `upstream` with those of the templates it just listed. */
  noteTemplates(upstream: string, uriTemplates: Iterable<string>): void {
    const prefixes = new Set<string>();
    for (const template of uriTemplates) {
      const prefix = templatePrefix(template);
      if (prefix.length > 0) prefixes.add(prefix);
    }
    this.#templates.set(upstream, [...prefixes].slice(0, 1000));
  }

  /**
   * The upstream of `view` serving `uri`: the only one, the one that listed it, or the one with
   * the longest template prefix. `ambiguous` when two upstreams tie; undefined when none claims it.
   */
  route(uri: string, view: View): string | 'ambiguous' | undefined {
    if (view.upstreams.length === 1) return view.upstreams[0];
    const listed = this.#listed.get(uri);
    if (listed !== undefined && view.has(listed)) return listed;
    let best: string | undefined;
    let bestLength = 0;
    let tie = false;
    for (const upstream of view.upstreams) {
      for (const prefix of this.#templates.get(upstream) ?? []) {
        if (prefix.length < bestLength || !uri.startsWith(prefix)) continue;
        if (prefix.length === bestLength && best !== upstream) tie = true;
        else if (prefix.length > bestLength) tie = false;
        best = upstream;
        bestLength = prefix.length;
      }
    }
    return tie ? 'ambiguous' : best;
  }
}
