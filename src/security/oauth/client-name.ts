/**
 * @module security/oauth/client-name
 * A client's self-chosen `client_name` (RFC 7591 registration, or a Client ID Metadata Document)
 * as the consent pages may show it: Unicode format characters (general category Cf: bidi
 * overrides and isolates such as U+202E, zero-width U+200B-U+200D, U+2060, U+FEFF...) removed, so
 * a name cannot reverse or hide part of itself ("Totally Legit" rendered from other bytes), then
 * printable characters only, at most 100. The pages also wrap the name in `<bdi>`.
 */

/** The displayable name, or undefined when nothing printable is left. */
export function displayableClientName(raw: string): string | undefined {
  return (
    raw
      .replace(/\p{Cf}/gu, '')
      .replace(/[^\x20-\x7e\u00a0-\uffff]/g, '')
      .slice(0, 100) || undefined
  );
}
