// A string-keyed memo bounded by clearing, shared by the JWT-SVID decoder and other per-string caches.
// Not exported from the package.

/**
 * A small memo keyed by exact strings, for values derived from the key alone (a checked header from
 * its segment, a parsed SPIFFE ID from `sub`). Cleared when full, so distinct keys sent by an
 * attacker cost memory only up to `max` entries. Keys are copied on insert, so a key sliced from a
 * token never keeps the token (a bearer credential) alive.
 */
export class StringMemo<V> {
  readonly #map = new Map<string, V>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  get(key: string): V | undefined {
    return this.#map.get(key)
  }

  set(key: string, value: V): void {
    if (this.#map.size >= this.#max) this.#map.clear()
    this.#map.set(JSON.parse(JSON.stringify(key)) as string, value)
  }
}
