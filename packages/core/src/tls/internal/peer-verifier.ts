// Verifies a TLS peer once per connection: its chain as an X.509-SVID against the bundle of its own
// trust domain (core's verifyX509Svid), then authorization, then the Caller. Not exported.
import { X509Certificate } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import { authorizeChain } from '../../audit/authorize-chain.js'
import { type Auditor, type AuditorOptions, createAuditor } from '../../audit/create-auditor.js'
import { startTimer } from '../../audit/start-timer.js'
import type { SpiffeCaller } from '../../caller/caller.js'
import { spiffeCaller } from '../../caller/create-caller.js'
import type { ConnectionOperation } from '../../caller/operation.js'
import { AccessDeniedError, OptionsError, TlsError } from '../../errors/domain-errors.js'
import { SvidkitError } from '../../errors/svidkit-error.js'
import type { MaybePromise } from '../../internal/settle.js'
import type { AuthorizationInput, Authorizer, Decision, SyncAuthorizer } from '../../policy/types.js'
import { type Matcher, matchPathTemplate } from '../../spiffe-id/matcher.js'
import type { SpiffeId } from '../../spiffe-id/spiffe-id.js'
import { type VerifyX509SvidOptions, verifyX509Svid } from '../../x509-svid/verify-x509-svid.js'
import type { PeerVerificationOptions } from '../tls-options.js'
import type { TlsAuthorize, TlsAuthorizer, TlsPeer } from '../tls-peer.js'

export interface VerifiedPeer {
  readonly peer: TlsPeer
  readonly caller: SpiffeCaller
}

export type PeerVerifier = (chain: readonly X509Certificate[]) => VerifiedPeer

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
/** Longest chain read from a peer (leaf included); longer chains are cut, and fail to verify. */
const MAX_CHAIN = 10

function isMatcher(fn: TlsAuthorize): fn is Matcher {
  return typeof fn === 'function' && typeof (fn as Partial<Matcher>).description === 'string'
}

function isAuthorizer(a: TlsAuthorize): a is SyncAuthorizer {
  return typeof a === 'object' && a !== null && typeof (a as Partial<SyncAuthorizer>).authorize === 'function'
}

/** Validates the shared options eagerly and returns the per-connection verifier. */
export function compilePeerVerifier(
  options: PeerVerificationOptions,
  role: TlsPeer['role'],
  what: string,
): PeerVerifier {
  if (typeof options !== 'object' || options === null)
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what} options must be an object`)
  const { source, authorize, identityTemplate, verify } = options
  if (
    !source ||
    typeof source.getX509Svid !== 'function' ||
    typeof source.getX509BundleForTrustDomain !== 'function'
  ) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "source" must have getX509Svid() and getX509BundleForTrustDomain() (an X509Source)`,
    )
  }
  if (typeof authorize !== 'function' && !isAuthorizer(authorize)) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "authorize" is required: an authorizer (authorizeMemberOf, …), a Matcher (matchId, …) or a function`,
    )
  }
  let template: Matcher | undefined
  if (typeof identityTemplate === 'string') template = matchPathTemplate(identityTemplate)
  else if (typeof identityTemplate === 'function') template = identityTemplate
  else if (identityTemplate !== undefined) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "identityTemplate" must be a path template or a Matcher`,
    )
  }
  const verifyOptions: VerifyX509SvidOptions = { ...(verify ?? {}) }
  if ('at' in verifyOptions) delete verifyOptions.at
  const check = compileAuthorize(authorize, role, auditorOf(options.audit, what))
  // The policy input's `self`: this workload's current SPIFFE ID, when the source has an SVID.
  const self = (): SpiffeId | undefined => {
    try {
      return source.getX509Svid().id
    } catch {
      return undefined
    }
  }

  return (chain) => {
    const v = verifyX509Svid(chain, source, verifyOptions)
    let captures = NO_CAPTURES
    if (template) {
      const r = template(v.id)
      if (r.matched) captures = r.captures
    }
    const certificate = v.chain[0]!
    const peer: TlsPeer = Object.freeze({
      role,
      id: v.id,
      trustDomain: v.trustDomain,
      certificate,
      chain: v.chain,
      expiresAt: v.expiresAt,
      captures,
    })
    const caller = spiffeCaller({
      channel: 'mtls',
      spiffeId: v.id,
      captures,
      expiresAt: v.expiresAt,
      certificate,
    })
    check(peer, caller, self)
    return { peer, caller }
  }
}

type Check = (peer: TlsPeer, caller: SpiffeCaller, self: () => SpiffeId | undefined) => void

function auditorOf(audit: PeerVerificationOptions['audit'], what: string): Auditor | undefined {
  if (audit === false) return undefined
  if (audit !== undefined && (typeof audit !== 'object' || audit === null)) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "audit" must be an Auditor, auditor options or false`,
    )
  }
  if (audit && 'record' in audit && typeof audit.record === 'function') return audit as Auditor
  return createAuditor((audit as AuditorOptions | undefined) ?? {})
}

function refuse(
  role: TlsPeer['role'],
  peer: TlsPeer,
  reason: string,
  options: { cause?: unknown; details?: object } = {},
) {
  return new TlsError('ERR_TLS_PEER_NOT_AUTHORIZED', `${role} "${peer.id}" is not authorized: ${reason}`, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: { peer: peer.id.toString(), ...options.details },
  })
}

const CONNECTION: ConnectionOperation = Object.freeze({ kind: 'connection' })
const NO_AUDIT: readonly string[] = Object.freeze([])

/**
 * Every form of `authorize` decides through the same authorize → audit chain as requests do, on an
 * honest input: the connection's caller and `{ kind: 'connection' }` (no request yet). Matchers and
 * functions are wrapped as authorizers of the peer.
 */
function compileAuthorize(
  authorize: TlsAuthorize,
  role: TlsPeer['role'],
  auditor: Auditor | undefined,
): Check {
  const forPeer: (peer: TlsPeer) => { authorizer: Authorizer; details?: object } = isAuthorizer(authorize)
    ? () => ({ authorizer: authorize })
    : isMatcher(authorize)
      ? (peer) => ({
          authorizer: matcherAuthorizer(authorize, peer),
          details: { expected: authorize.description },
        })
      : (peer) => ({ authorizer: functionAuthorizer(authorize, peer) })
  return (peer, caller, self) => {
    const { authorizer, details } = forPeer(peer)
    const input: AuthorizationInput = { caller, self: self(), operation: CONNECTION }
    let result: MaybePromise<Decision | undefined>
    try {
      result = authorizeChain(input, [authorizer], auditor, startTimer())
    } catch (cause) {
      if (cause instanceof AccessDeniedError) {
        const rule = (cause.details as { rule?: unknown } | undefined)?.rule ?? null
        throw refuse(role, peer, cause.reason, { details: { rule, ...details } })
      }
      throw refuse(role, peer, cause instanceof SvidkitError ? cause.reason : 'the authorizer failed', {
        cause,
      })
    }
    // A promise cannot be awaited in the handshake path: refuse rather than admit on a pending answer.
    if (result instanceof Promise) {
      result.then(undefined, () => {})
      throw refuse(role, peer, 'the authorizer answered with a Promise (TLS authorizers must be synchronous)')
    }
  }
}

function matcherAuthorizer(m: Matcher, peer: TlsPeer): Authorizer {
  return {
    authorize: () => {
      const r = m(peer.id)
      return r.matched
        ? { decision: 'allow', rule: null, reason: `matched ${m.description}`, audit: NO_AUDIT }
        : { decision: 'deny', rule: null, reason: r.reason, audit: NO_AUDIT }
    },
  }
}

function functionAuthorizer(fn: TlsAuthorizer, peer: TlsPeer): Authorizer {
  return {
    authorize: () => {
      const result = fn(peer)
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        ;(result as Promise<unknown>).then(undefined, () => {})
        return Promise.reject(
          new TlsError('ERR_TLS_PEER_NOT_AUTHORIZED', 'the authorizer returned a Promise'),
        )
      }
      // `false`, or a failed MatchResult (a Matcher without a description), refuses: fail closed.
      const refused =
        result === false ||
        (typeof result === 'object' && result !== null && (result as { matched?: unknown }).matched === false)
      return refused
        ? { decision: 'deny', rule: null, reason: 'refused by the authorizer', audit: NO_AUDIT }
        : { decision: 'allow', rule: null, reason: 'allowed by the authorizer', audit: NO_AUDIT }
    },
  }
}

// Peer certificates arrive as new objects on every connection. Mapping them (by DER) to one canonical
// X509Certificate per distinct certificate lets core's per-object parse cache (KeyUsage, SANs, …) hit,
// so a returning peer costs a signature check, not an ASN.1 parse. Bounded, oldest evicted first.
const CANONICAL_MAX = 512
const canonical = new Map<string, X509Certificate>()

function canonicalize(der: Buffer, existing?: X509Certificate): X509Certificate {
  const key = der.toString('base64')
  const hit = canonical.get(key)
  if (hit) return hit
  const cert = existing ?? new X509Certificate(der)
  if (canonical.size >= CANONICAL_MAX) canonical.delete(canonical.keys().next().value!)
  canonical.set(key, cert)
  return cert
}

/** The chain a peer sent, leaf first, from `TLSSocket.getPeerX509Certificate()` (server side). */
export function chainFromX509(leaf: X509Certificate): X509Certificate[] {
  const chain: X509Certificate[] = []
  let c: X509Certificate | undefined = leaf
  while (c && chain.length < MAX_CHAIN) {
    chain.push(canonicalize(c.raw, c))
    const next: X509Certificate | undefined = c.issuerCertificate
    if (next === c) break
    c = next
  }
  return chain
}

/** The chain from a detailed `PeerCertificate` (what `checkServerIdentity` receives), leaf first. */
export function chainFromPeerCertificate(cert: PeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = []
  let c: PeerCertificate | undefined = cert
  while (c?.raw && chain.length < MAX_CHAIN) {
    chain.push(canonicalize(c.raw))
    const next: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate
    if (!next || next === c) break
    c = next
  }
  if (chain.length === 0) throw new TlsError('ERR_TLS_NO_PEER_CERTIFICATE', 'server presented no certificate')
  return chain
}
