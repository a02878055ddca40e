/** A plain-object copy, so results compare with `toEqual` regardless of their prototype. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** Envoy's `Cert`/`Chain` encoding: a fixed replacement of five characters (and `\r` dropped). */
export function envoyUrlEncode(pem: string): string {
  return pem
    .replace(/\r/g, '')
    .replace(/\n/g, '%0A')
    .replace(/ /g, '%20')
    .replace(/\+/g, '%2B')
    .replace(/\//g, '%2F')
    .replace(/=/g, '%3D')
}
