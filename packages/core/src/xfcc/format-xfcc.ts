import { XfccError } from '../errors/domain-errors.js'
import type { XfccElement } from './xfcc-element.js'

// Envoy's spelling of its keys; any other key is written as given.
const ENVOY_KEYS: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, {
    by: 'By',
    hash: 'Hash',
    cert: 'Cert',
    chain: 'Chain',
    subject: 'Subject',
    uri: 'URI',
    dns: 'DNS',
  }),
)
// Keys Envoy always writes quoted.
const ALWAYS_QUOTED: ReadonlySet<string> = new Set(['cert', 'chain', 'subject'])
const SINGLE_KEYS: ReadonlySet<string> = new Set(['cert', 'chain', 'hash'])
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/
// Characters that force quoting: separators, quote, backslash, and leading/trailing blanks.
const NEEDS_QUOTES = /[,;="\\]|^[ \t]|[ \t]$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it detects.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/

/**
 * Writes XFCC elements as a header value: the inverse of {@link parseXfcc}, so
 * `parseXfcc(formatXfcc(elements))` gives back the same elements (keys lowercased). Known keys are
 * written in Envoy's spelling (`By`, `Hash`, `Cert`, `Chain`, `Subject`, `URI`, `DNS`), in the order of
 * the object's keys; `Cert`, `Chain` and `Subject` are always quoted, as Envoy writes them, and any other
 * value is quoted only when it holds `,` `;` `=` `"` `\` or starts or ends with a blank. Inside quotes,
 * `"` and `\` are backslash-escaped. Elements are joined with `,` and no space, as Envoy appends them.
 * Used by the tests and the development tooling to build headers.
 *
 * @throws XfccError `ERR_XFCC_MALFORMED` for an element with no value, a key that is not an RFC 9110
 * token, or a value with a control character; `ERR_XFCC_DUPLICATE_KEY` for two `Cert`, `Chain` or `Hash`
 * values in one element.
 * @example
 * ```ts
 * import { formatXfcc } from '@svidkit/core/xfcc'
 * formatXfcc([{ by: ['spiffe://example.org/api'], subject: ['CN=web,O=Example'], uri: ['spiffe://example.org/web'] }])
 * // 'By=spiffe://example.org/api;Subject="CN=web,O=Example";URI=spiffe://example.org/web'
 * ```
 */
export function formatXfcc(elements: readonly Readonly<XfccElement>[]): string {
  if (!Array.isArray(elements)) throw new XfccError('ERR_XFCC_MALFORMED', 'elements must be an array')
  const parts: string[] = []
  for (const element of elements) {
    if (typeof element !== 'object' || element === null) {
      throw new XfccError('ERR_XFCC_MALFORMED', 'an element must be an object')
    }
    const pairs: string[] = []
    const seen = new Set<string>()
    for (const key of Object.keys(element)) {
      const values = element[key]
      if (values === undefined) continue
      if (!Array.isArray(values)) {
        throw new XfccError('ERR_XFCC_MALFORMED', `values of "${key}" must be an array of strings`)
      }
      if (!TOKEN.test(key)) throw new XfccError('ERR_XFCC_MALFORMED', `"${key}" is not a valid key`)
      const lower = key.toLowerCase()
      const name = ENVOY_KEYS[lower] ?? key
      for (const value of values as readonly unknown[]) {
        if (typeof value !== 'string') {
          throw new XfccError('ERR_XFCC_MALFORMED', `values of "${key}" must be an array of strings`)
        }
        if (CONTROL.test(value)) {
          throw new XfccError('ERR_XFCC_MALFORMED', `a value of "${key}" contains a control character`)
        }
        if (SINGLE_KEYS.has(lower)) {
          if (seen.has(lower)) {
            throw new XfccError('ERR_XFCC_DUPLICATE_KEY', `element carries "${lower}" more than once`)
          }
          seen.add(lower)
        }
        pairs.push(
          ALWAYS_QUOTED.has(lower) || NEEDS_QUOTES.test(value)
            ? `${name}="${value.replace(/["\\]/g, '\\$&')}"`
            : `${name}=${value}`,
        )
      }
    }
    if (pairs.length === 0)
      throw new XfccError('ERR_XFCC_MALFORMED', 'an element must have at least one value')
    parts.push(pairs.join(';'))
  }
  return parts.join(',')
}
