// The one authorize → audit chain: the caller pipeline (route requirement, then the global
// authorizer) and the TLS handshake (the connection authorizer) both decide through it.
import type { MaybePromise } from '../internal/settle.js'
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
  return from(0, undefined, input, authorizers, auditor, elapsed)
}

/** The chain from authorizer `i` on, `last` being the decision so far. Synchronous while they are. */
function from(
  i: number,
  last: Decision | undefined,
  input: AuthorizationInput,
  authorizers: readonly (Authorizer | undefined)[],
  auditor: Auditor | undefined,
  elapsed: () => number,
): MaybePromise<Decision | undefined> {
  for (; i < authorizers.length; i++) {
    const a = authorizers[i]
    if (a === undefined) continue
    const d = a.authorize(input)
    if (d instanceof Promise) {
      const next = i + 1
      return d.then((decided) =>
        from(next, checked(decided, input, auditor, elapsed), input, authorizers, auditor, elapsed),
      )
    }
    last = checked(d, input, auditor, elapsed)
  }
  if (last !== undefined) auditor?.record(input, last, elapsed())
  return last
}

/** A deny is audited and thrown; an allow goes on. */
function checked(
  d: Decision,
  input: AuthorizationInput,
  auditor: Auditor | undefined,
  elapsed: () => number,
): Decision {
  if (d.decision !== 'allow') {
    auditor?.record(input, d, elapsed())
    throw toAccessDeniedError(d)
  }
  return d
}
