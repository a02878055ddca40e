import { OptionsError } from '../errors/domain-errors.js'
import { isSvidkitError } from '../errors/svidkit-error.js'
import type { AuthorizationInput, Authorizer, Decision, SyncAuthorizer } from '../policy/types.js'
import { type Auditor, type AuditorOptions, createAuditor } from './create-auditor.js'
import { startTimer } from './start-timer.js'

const NO_AUDIT: readonly string[] = Object.freeze([])

function failed(err: unknown): Decision {
  return {
    decision: 'deny',
    rule: null,
    reason: isSvidkitError(err) ? `authorizer failed: ${err.message}` : 'authorizer failed',
    audit: NO_AUDIT,
  }
}

function isThenable(v: unknown): v is PromiseLike<Decision> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
}

/**
 * Wraps an authorizer so every decision is timed and audited. A synchronous authorizer stays
 * synchronous. When the authorizer throws (e.g. `ERR_AUTHORIZER_UNAVAILABLE`), a deny event is
 * recorded and the error is rethrown.
 *
 * @example
 * ```ts
 * const authorizer = withAudit(createPolicyAuthorizer(policy), { logger: app.log })
 * ```
 */
export function withAudit(authorizer: SyncAuthorizer, auditor?: Auditor | AuditorOptions): SyncAuthorizer
export function withAudit(authorizer: Authorizer, auditor?: Auditor | AuditorOptions): Authorizer
export function withAudit(authorizer: Authorizer, auditor: Auditor | AuditorOptions = {}): Authorizer {
  if (!authorizer || typeof authorizer.authorize !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'withAudit: expected an authorizer')
  }
  const a: Auditor =
    typeof (auditor as Auditor).record === 'function'
      ? (auditor as Auditor)
      : createAuditor(auditor as AuditorOptions)
  return Object.freeze({
    authorize(input: AuthorizationInput): Decision | Promise<Decision> {
      const elapsed = startTimer()
      let out: Decision | Promise<Decision>
      try {
        out = authorizer.authorize(input)
      } catch (err) {
        a.record(input, failed(err), elapsed())
        throw err
      }
      if (!isThenable(out)) {
        a.record(input, out, elapsed())
        return out
      }
      return Promise.resolve(out).then(
        (d) => {
          a.record(input, d, elapsed())
          return d
        },
        (err: unknown) => {
          a.record(input, failed(err), elapsed())
          throw err
        },
      )
    },
  })
}
