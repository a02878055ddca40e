// Loads the optional `undici` peer dependency synchronously, from this package's location, in both the
// ESM and the CJS build. Not exported.
import { createRequire } from 'node:module'
import { OptionsError } from '../../errors/domain-errors.js'

type Undici = typeof import('undici')

let loaded: Undici | undefined

export function loadUndici(what: string): Undici {
  if (loaded) return loaded
  // In the CJS build `__filename` exists; in ESM it does not and `import.meta.url` is used.
  const base = typeof __filename === 'string' ? __filename : import.meta.url
  try {
    loaded = createRequire(base)('undici') as Undici
  } catch (cause) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what} needs the optional peer dependency "undici" (>=6 <9): npm install undici`,
      { cause },
    )
  }
  return loaded
}
