/**
 * One XFCC element: the details one proxy added about its direct mTLS client, as a plain object that
 * maps each **lowercased** key to the list of its values, in header order. Values are unquoted and
 * unescaped (`\"` → `"`, `\\` → `\`; every other backslash is kept, so an RFC 2253 `\,` stays as is).
 * Only keys present in the header appear; unknown keys (`issuer`, legacy `san`, …) are kept. The
 * object inherits no member (not even `Object.prototype`'s), so reading any key is safe and a key such
 * as `__proto__` is an ordinary own property; `JSON.stringify` prints exactly this shape.
 *
 * Envoy's keys: `by` (the URI SANs of the proxy's own certificate), `hash` (lowercase hex SHA-256 of
 * the client certificate's DER), `cert` and `chain` (URL-encoded PEM), `subject` (RFC 2253, opaque:
 * never authorize on it), `uri` (the client's URI SANs; `URI=` with an empty value when there is none)
 * and `dns` (the client's DNS SANs).
 *
 * @example
 * ```ts
 * const element: XfccElement = {
 *   by: ['spiffe://example.org/api'],
 *   hash: ['4a5b…'],
 *   subject: ['CN=web,O=Example\\, Inc.'],
 *   uri: ['spiffe://example.org/web'],
 * }
 * ```
 */
export interface XfccElement {
  by?: string[]
  hash?: string[]
  cert?: string[]
  chain?: string[]
  subject?: string[]
  uri?: string[]
  dns?: string[]
  [key: string]: string[] | undefined
}
