// Stable objects for repeated callers: one Identity per forwarded caller and certificate, one per
// verified JWT-SVID, one Caller per identity (and token), one VerifiedCall per caller and decision.
// A request from a known connection, header or token then hands out the same objects, which is what
// lets the policy engine remember decisions per caller object. Everything is held weakly, keyed by
// objects that channels already keep alive (sockets, memoized IDs, verified tokens); a bundle change
// replaces the whole memo.
import type { X509Certificate } from 'node:crypto'
import type { Caller } from '../caller/caller.js'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import type { Decision } from '../policy/types.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { VerifiedCall } from './caller-verifier.js'
import type { Identity } from './identity.js'

/** @internal */
export interface CallerMemo {
  /** The identity a trusted proxy vouched for, per caller ID and forwarded certificate. */
  proxied(spiffeId: SpiffeId, certificate: X509Certificate | undefined, expiresAt: Date | undefined): Identity
  /** The identity of a verified JWT-SVID. */
  jwt(svid: JwtSvid): Identity
  /** The caller of `primary` (with the scopes and claims of `token`, when one names it), built once. */
  caller(primary: Identity, token: JwtSvid | undefined, build: () => Caller): Caller
  /** The result of a request of `caller` decided by `decision`. */
  verified(caller: Caller, decision: Decision | undefined): VerifiedCall
}

/** @internal */
export function createCallerMemo(): CallerMemo {
  const proxiedNoCert = new WeakMap<SpiffeId, Identity>()
  const proxiedByCert = new WeakMap<SpiffeId, WeakMap<X509Certificate, Identity>>()
  const jwtIdentities = new WeakMap<JwtSvid, Identity>()
  const callers = new WeakMap<Identity, Caller>()
  const tokenCallers = new WeakMap<Identity, WeakMap<JwtSvid, Caller>>()
  const undecided = new WeakMap<Caller, VerifiedCall>()
  const decided = new WeakMap<Caller, WeakMap<Decision, VerifiedCall>>()
  return {
    proxied(spiffeId, certificate, expiresAt) {
      if (certificate === undefined) {
        let identity = proxiedNoCert.get(spiffeId)
        if (identity === undefined) {
          identity = Object.freeze({ channel: 'xfcc', spiffeId, certificate, expiresAt })
          proxiedNoCert.set(spiffeId, identity)
        }
        return identity
      }
      let byCert = proxiedByCert.get(spiffeId)
      if (byCert === undefined) {
        byCert = new WeakMap()
        proxiedByCert.set(spiffeId, byCert)
      }
      let identity = byCert.get(certificate)
      if (identity === undefined) {
        identity = Object.freeze({ channel: 'xfcc', spiffeId, certificate, expiresAt })
        byCert.set(certificate, identity)
      }
      return identity
    },
    jwt(svid) {
      let identity = jwtIdentities.get(svid)
      if (identity === undefined) {
        identity = Object.freeze({ channel: 'jwt', spiffeId: svid.id, expiresAt: svid.expiresAt, jwt: svid })
        jwtIdentities.set(svid, identity)
      }
      return identity
    },
    caller(primary, token, build) {
      if (token === undefined || primary.jwt === token) {
        let c = callers.get(primary)
        if (c === undefined) {
          c = build()
          callers.set(primary, c)
        }
        return c
      }
      let byToken = tokenCallers.get(primary)
      if (byToken === undefined) {
        byToken = new WeakMap()
        tokenCallers.set(primary, byToken)
      }
      let c = byToken.get(token)
      if (c === undefined) {
        c = build()
        byToken.set(token, c)
      }
      return c
    },
    verified(caller, decision) {
      // Only a shared (frozen) decision is worth remembering: a fresh one would cost a map entry each time.
      if (decision !== undefined && !Object.isFrozen(decision)) return { caller, decision }
      if (decision === undefined) {
        let v = undecided.get(caller)
        if (v === undefined) {
          v = Object.freeze({ caller, decision: undefined })
          undecided.set(caller, v)
        }
        return v
      }
      let byDecision = decided.get(caller)
      if (byDecision === undefined) {
        byDecision = new WeakMap()
        decided.set(caller, byDecision)
      }
      let v = byDecision.get(decision)
      if (v === undefined) {
        v = Object.freeze({ caller, decision })
        byDecision.set(decision, v)
      }
      return v
    },
  }
}
