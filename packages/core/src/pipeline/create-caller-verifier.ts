// The caller pipeline, composed: credentials in (any transport) → every present credential verified
// (verify-credentials) → the caller chosen and built → route requirement → global authorizer →
// audit (audit/authorize-chain). See ./README.md.

import { authorizeChain } from '../audit/authorize-chain.js'
import { type Auditor, type AuditorOptions, createAuditor } from '../audit/create-auditor.js'
import { startTimer } from '../audit/start-timer.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import { combineBundleSources } from '../bundle/combine-bundle-sources.js'
import type { Caller, CallerUser } from '../caller/caller.js'
import { oidcCaller, spiffeCaller } from '../caller/create-caller.js'
import type { Operation } from '../caller/operation.js'
import { readScopes } from '../caller/read-scopes.js'
import { CredentialsError } from '../errors/domain-errors.js'
import { toSvidkitError } from '../errors/to-svidkit-error.js'
import { optionsFailure } from '../internal/options.js'
import { type MaybePromise, settle } from '../internal/settle.js'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import type { OidcToken } from '../oidc/create-oidc-verifier.js'
import type { AuthorizationInput, Authorizer, Decision } from '../policy/types.js'
import { firstCaptures, PathTemplate } from '../spiffe-id/path-template.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { X509SvidSource } from '../x509-svid/x509-svid.js'
import type {
  CallerCredentials,
  CallerVerifier,
  CallerVerifierOptions,
  VerifiedCall,
  VerifyCallerOptions,
} from './caller-verifier.js'
import { type CallerMemo, createCallerMemo } from './create-caller-memo.js'
import { createChannels } from './create-channels.js'
import { createMtlsIdentities } from './create-mtls-identities.js'
import type { Identity } from './identity.js'
import { verifyCredentials } from './verify-credentials.js'

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
const bundleListeners = new WeakMap<CallerVerifier, () => void>()
/** Timing only feeds the audit event: none when nothing reads it. */
const untimed = (): number => 0
const ANONYMOUS: VerifiedCall = Object.freeze({ caller: undefined, decision: undefined })
const bad = optionsFailure('createCallerVerifier')

/**
 * Builds the one framework-neutral caller pipeline every adapter calls. It verifies a caller from any
 * configured channel — the mTLS peer certificate (X.509-SVID), an XFCC or other proxy certificate
 * header from a trusted proxy, a JWT-SVID bearer token, or a token from a configured OIDC issuer —
 * against the bundle sources, applies route requirements and the global authorizer, and emits one
 * audit event per decision.
 *
 * @example
 * ```ts
 * import { createCallerVerifier } from '@svidkit/core/caller'
 * const verifier = createCallerVerifier({
 *   bundles: x509Source,
 *   self: x509Source,
 *   xfcc: { trustedPeers: { addresses: ['127.0.0.1'] } },
 *   jwt: { audience: 'spiffe://example.org/orders' },
 *   identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
 *   authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 * })
 * const { caller } = await verifier.verifyCaller({
 *   operation: { kind: 'http', method: 'GET', path: '/orders' },
 *   socket: req.socket,
 *   peerAddress: req.socket.remoteAddress,
 *   authorization: req.headers.authorization,
 *   xfcc: req.headersDistinct['x-forwarded-client-cert'],
 * })
 * ```
 */
export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const given = options.bundles
  const bundles = (Array.isArray(given) ? combineBundleSources(...given) : given) as X509BundleSource &
    Partial<JwtBundleSource>
  if (!bundles || typeof bundles.getX509BundleForTrustDomain !== 'function') {
    bad('"bundles" must be a bundle source (a BundleSet, X509Source, BundleSource…) or a list of them')
  }
  const self = selfOf(options.self)
  const channels = createChannels(options, bundles)
  const mtlsIdentity = channels.mtls ? createMtlsIdentities(bundles, channels.mtls.skewMs) : () => undefined

  // Captures: channels hand back the same SpiffeId object for a repeated caller (parsed IDs are
  // memoized), so its frozen captures are remembered per ID object, not matched per request.
  const templates = (options.identityTemplates ?? []).map((t) => PathTemplate.parse(t))
  const capturesMemo = new WeakMap<SpiffeId, Readonly<Record<string, string>>>()
  const capturesOf = (id: SpiffeId): Readonly<Record<string, string>> => {
    if (templates.length === 0) return NO_CAPTURES
    let captures = capturesMemo.get(id)
    if (captures === undefined) {
      captures = firstCaptures(templates, id) ?? NO_CAPTURES
      capturesMemo.set(id, captures)
    }
    return captures
  }
  // Stable identities, callers and results for repeated callers; replaced when the bundles change.
  let memo = createCallerMemo()
  const onBundles = (): void => {
    memo = createCallerMemo()
  }
  watchBundles(options.bundles, onBundles)

  const auditor = auditorOf(options.audit)
  const authorizer = options.authorizer
  if (authorizer !== undefined && typeof authorizer?.authorize !== 'function') {
    bad('"authorizer" must have an authorize(input) method')
  }

  // mTLS alone, with nothing decided per request (no global authorizer, no route requirement): a
  // connection's result is the same for every request on it, so it is one lookup (expiry checked).
  const connectionOnly =
    channels.order.length === 1 && channels.order[0] === 'mtls' && authorizer === undefined
  const connections = new WeakMap<object, ConnectionResult>()
  const remember = (socket: unknown, caller: Caller, call: VerifiedCall, m: CallerMemo): void => {
    if (socket === null || typeof socket !== 'object') return
    const expires = caller.expiresAt?.getTime()
    const until = expires === undefined ? Number.POSITIVE_INFINITY : expires + (channels.mtls?.skewMs ?? 0)
    connections.set(socket, { memo: m, call, until })
  }

  const missing = (): CredentialsError =>
    new CredentialsError('ERR_CREDENTIALS_MISSING', `no credentials: expected ${channels.expected}`)

  /** Chooses and builds the caller: the first identity by precedence, or the OIDC user. */
  const callerOf = (
    identities: readonly Identity[],
    user: OidcToken | undefined,
    jwtSvid: JwtSvid | undefined,
  ): Caller | undefined => {
    const primary = identities[0]
    if (primary === undefined) {
      return user
        ? oidcCaller({
            principal: user.principal,
            scopes: user.scopes,
            claims: user.claims,
            expiresAt: user.expiresAt,
          })
        : undefined
    }
    const token = primary.jwt ?? (jwtSvid?.id.equals(primary.spiffeId) ? jwtSvid : undefined)
    const build = (): Caller => {
      const claims = token?.claims
      return spiffeCaller({
        channel: primary.channel,
        spiffeId: primary.spiffeId,
        captures: capturesOf(primary.spiffeId),
        scopes: claims ? readScopes(claims) : undefined,
        claims,
        expiresAt: minDate(primary.expiresAt, token?.expiresAt),
        certificate: primary.certificate,
        user: user ? userOf(user) : undefined,
      })
    }
    // An OIDC user is verified per request (asynchronously): that caller is not remembered.
    return user ? build() : memo.caller(primary, token, build)
  }

  const verifier: CallerVerifier = Object.freeze({
    channels: channels.order,
    headers: channels.headers,
    identityTemplates: Object.freeze(templates.map((t) => t.template)),
    self,
    authorizeCaller(
      caller: Caller | undefined,
      operation: Operation,
      extra: Authorizer,
    ): MaybePromise<Decision> {
      const elapsed = auditor?.recording?.() === false ? untimed : startTimer()
      if (caller === undefined) {
        const err = missing()
        auditor?.recordFailure({ operation, self: self(), code: err.code, reason: err.reason }, elapsed())
        throw err
      }
      const input: AuthorizationInput = { caller, self: self(), operation }
      return settle(authorizeChain(input, [extra], auditor, elapsed), (d) => d!)
    },
    verifyCaller(credentials: CallerCredentials, call: VerifyCallerOptions = {}): MaybePromise<VerifiedCall> {
      const fast = connectionOnly && call.requirement === undefined
      if (fast && credentials.socket != null) {
        const hit = connections.get(credentials.socket)
        if (hit !== undefined && hit.memo === memo && Date.now() <= hit.until) return hit.call
      }
      const elapsed = auditor?.recording?.() === false ? untimed : startTimer()
      const operation = credentials.operation
      const me = self()
      const fail = (err: unknown): never => {
        const e = toSvidkitError(err)
        if (!(e.code === 'ERR_ACCESS_DENIED' || e.code === 'ERR_SCOPE_MISSING')) {
          auditor?.recordFailure({ operation, self: me, code: e.code, reason: e.reason }, elapsed())
        }
        throw e
      }
      const decide = (caller: Caller | undefined): MaybePromise<VerifiedCall> => {
        if (caller === undefined) {
          if (call.optional) return ANONYMOUS
          throw missing()
        }
        const input: AuthorizationInput = { caller, self: me, operation }
        const m = memo
        return settle(authorizeChain(input, [call.requirement, authorizer], auditor, elapsed), (decision) =>
          m.verified(caller, decision),
        )
      }
      try {
        const v = verifyCredentials(channels, mtlsIdentity, memo, credentials)
        if (v.oidcToken) {
          return v.oidcToken
            .then((t) => {
              // An OIDC token next to a SPIFFE identity is the user's only with `asUser`; otherwise it
              // would be a second caller identity, which is refused as ambiguous.
              const primary = v.identities[0]
              if (primary && !channels.oidcAsUser) {
                throw new CredentialsError(
                  'ERR_CREDENTIALS_CALLER_MISMATCH',
                  `an OIDC token came with a ${primary.channel} caller; enable oidc.asUser to accept it as the user`,
                )
              }
              return decide(callerOf(v.identities, t, v.jwtSvid))
            })
            .catch(fail)
        }
        const caller = callerOf(v.identities, undefined, v.jwtSvid)
        const r = decide(caller)
        if (r instanceof Promise) return r.catch(fail)
        if (fast && caller !== undefined) remember(credentials.socket, caller, r, memo)
        return r
      } catch (err) {
        return fail(err)
      }
    },
  } satisfies CallerVerifier)
  // The bundle listener holds `onBundles` weakly: the verifier keeps it alive.
  bundleListeners.set(verifier, onBundles)
  return verifier
}

/** A connection's result on the mTLS-only path, valid while `memo` is current and until `until`. */
interface ConnectionResult {
  readonly memo: CallerMemo
  readonly call: VerifiedCall
  readonly until: number
}

/** The service's own SPIFFE ID: a fixed one, or the current SVID of a source. */
function selfOf(given: CallerVerifierOptions['self']): () => SpiffeId | undefined {
  if (given === undefined) return () => undefined
  if (typeof given === 'string' || given instanceof SpiffeId) {
    const id = typeof given === 'string' ? SpiffeId.parse(given) : given
    return () => id
  }
  if (typeof (given as X509SvidSource).getX509Svid !== 'function') {
    bad('"self" must be a SPIFFE ID or an X.509-SVID source')
  }
  const source = given as X509SvidSource
  return () => {
    try {
      return source.getX509Svid().id
    } catch {
      return undefined
    }
  }
}

function auditorOf(audit: CallerVerifierOptions['audit']): Auditor | undefined {
  if (audit === false) return undefined
  if (audit && 'record' in audit && typeof audit.record === 'function') return audit as Auditor
  return createAuditor((audit as AuditorOptions | undefined) ?? {})
}

function userOf(t: OidcToken): CallerUser {
  return Object.freeze({ principal: t.principal, scopes: t.scopes, claims: t.claims })
}

function minDate(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b
  if (!b) return a
  return a.getTime() <= b.getTime() ? a : b
}

/**
 * Calls `onChange` whenever one of the bundle sources reports new bundles (sources with `on`, such as
 * X509Source, BundleSource and FileSource). The listener holds the verifier only weakly, and removes
 * itself once the verifier is gone.
 */
function watchBundles(given: CallerVerifierOptions['bundles'], onChange: () => void): void {
  type Watchable = {
    on?: (e: 'update', l: () => void) => unknown
    off?: (e: 'update', l: () => void) => unknown
  }
  const sources = (Array.isArray(given) ? given : [given]) as readonly Watchable[]
  const ref = new WeakRef(onChange)
  for (const source of sources) {
    if (typeof source?.on !== 'function') continue
    const listener = (): void => {
      const fn = ref.deref()
      if (fn) fn()
      else source.off?.('update', listener)
    }
    source.on('update', listener)
  }
}
