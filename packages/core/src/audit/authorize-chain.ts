// The one authorize → audit chain: the caller pipeline (route requirement, then the global
// authorizer) and the TLS handshake (the connection authorizer) both decide through it.
import { type MaybePromise, settle } from '../internal/settle.js'
import { toAccessDeniedError } from '../policy/to-access-denied-error.js'
import type { AuthorizationInput, Authorizer, Decision } from '../policy/types.js'
import type { Auditor } from './create-auditor.js'

/**
 * Runs `authorizers` in order on one input (an `undefined` entry is skipped). The first deny is
 * audited and thrown as the 403-family error (`toAccessDeniedError`); when every one allows, the
 * last decision is audited and returned. With nothing to run: `undefined`, and no event. An
 * authorizer that throws is not audited here (the caller records the failure with its code).
 * Synchronous unless an authorizer answers with a promise.
 * @internal
 */
export function authorizeChain(
  input: AuthorizationInput,
  authorizers: readonly (Authorizer | undefined)[],
  auditor: Auditor | undefined,
  elapsed: () => number,
): MaybePromise<Decision | undefined> {
  const step = (i: number, last: Decision | undefined): MaybePromise<Decision | undefined> => {
    while (i < authorizers.length && authorizers[i] === undefined) i++
    if (i === authorizers.length) {
      if (last) auditor?.record(input, last, elapsed())
      return last
    }
    return settle(authorizers[i]!.authorize(input), (d: Decision) => {
      if (d.decision !== 'allow') {
        auditor?.record(input, d, elapsed())
        throw toAccessDeniedError(d)
      }
      return step(i + 1, d)
    })
  }
  return step(0, undefined)
}
