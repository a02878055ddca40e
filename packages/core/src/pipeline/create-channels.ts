// Channel set-up of the caller pipeline: which channels are configured and accepted, in what order,
// with their verifiers built and their options validated once, when the verifier is created.
import type { AuditorOptions } from '../audit/create-auditor.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import type { CallerChannel } from '../caller/caller.js'
import {
  createForwardedCertExtractor,
  type ForwardedCertExtractor,
} from '../forwarded-cert/create-forwarded-cert-extractor.js'
import { optionsFailure } from '../internal/options.js'
import type { TrustedPeerOptions } from '../internal/trusted-peer.js'
import { createJwtSvidVerifier, type JwtSvidVerifier } from '../jwt-svid/create-jwt-svid-verifier.js'
import { createOidcVerifier, type OidcVerifier } from '../oidc/create-oidc-verifier.js'
import { createXfccExtractor, type XfccExtractor } from '../xfcc/create-xfcc-extractor.js'
import type { CallerVerifierOptions, CredentialHeaders } from './caller-verifier.js'

/** The configured channels of one verifier. @internal */
export interface Channels {
  /** Accepted channels, in precedence order. */
  readonly order: readonly CallerChannel[]
  readonly accepted: ReadonlySet<CallerChannel>
  readonly mtls: { readonly skewMs: number } | undefined
  readonly xfcc: XfccExtractor | undefined
  readonly forwarded: ForwardedCertExtractor | undefined
  readonly jwt: JwtSvidVerifier | undefined
  readonly oidc: OidcVerifier | undefined
  /** An OIDC token next to a SPIFFE identity names the user, not a second caller. */
  readonly oidcAsUser: boolean
  /** A certificate identity and a JWT-SVID in one request must name the same workload. */
  readonly requireSameWorkload: boolean
  readonly headers: CredentialHeaders
  /** "an mTLS client certificate or a JWT-SVID bearer token": what a request without credentials lacks. */
  readonly expected: string
}

const DEFAULT_ORDER: readonly CallerChannel[] = ['xfcc', 'mtls', 'jwt', 'oidc']
const bad = optionsFailure('createCallerVerifier')

/**
 * Validates the channel options and builds each channel's verifier.
 * @internal
 */
export function createChannels(
  options: CallerVerifierOptions,
  bundles: X509BundleSource & Partial<JwtBundleSource>,
): Channels {
  const mtlsOn = options.mtls !== false
  const skewSeconds = typeof options.mtls === 'object' ? (options.mtls.clockSkewSeconds ?? 0) : 0
  // Over mTLS every workload that can reach the service has an SVID of its own, so a proxy that
  // vouches for callers must be known by its SVID, never by address alone.
  const mtlsAccepted = mtlsOn && (options.channels === undefined || options.channels.includes('mtls'))
  const peerTrust = (
    given: TrustedPeerOptions | undefined,
    field: string,
  ): TrustedPeerOptions | undefined => {
    if (!mtlsAccepted) return given
    if (given?.insecureAddressOnly === true) {
      warn(
        options,
        `${field}.insecureAddressOnly: a proxy is trusted by address alone while the mTLS channel is on; any workload connecting from a trusted address can name any caller. Name the proxy by SPIFFE ID (${field}.spiffeId) instead.`,
      )
      return given
    }
    if (given?.spiffeId === undefined) {
      bad(
        `${field}: with the mTLS channel on, name the proxy by its SPIFFE ID (${field}.spiffeId, e.g. matchId('spiffe://example.org/ns/edge/sa/proxy')): by address alone, any workload connecting from a trusted address with its own SVID could name any caller. If this server does not terminate TLS, set mtls: false; to accept the risk, set ${field}.insecureAddressOnly: true`,
      )
    }
    return { ...given, requireSvid: true }
  }

  const xfcc = options.xfcc
    ? createXfccExtractor({
        ...options.xfcc,
        trustedPeers: peerTrust(options.xfcc.trustedPeers, 'xfcc.trustedPeers'),
        bundles,
      })
    : undefined
  let forwarded: ForwardedCertExtractor | undefined
  if (options.forwardedCert) {
    const { header, chainHeader: _c, ...rest } = options.forwardedCert
    if (typeof header !== 'string' || header === '') bad('forwardedCert.header must name the header')
    forwarded = createForwardedCertExtractor({
      ...rest,
      trustedPeers: peerTrust(rest.trustedPeers, 'forwardedCert.trustedPeers'),
      bundles,
    })
  }
  if (options.jwt && typeof bundles.getJwtBundleForTrustDomain !== 'function') {
    bad(
      'the jwt channel needs JWT bundles: pass a BundleSource, a BundleSet, or combineBundleSources(x509Source, bundleSource)',
    )
  }
  const jwt = options.jwt
    ? createJwtSvidVerifier({
        bundles: bundles as JwtBundleSource, // checked above
        audience: options.jwt.audience,
        ...(options.jwt.clockSkewSeconds === undefined
          ? {}
          : { clockSkewSeconds: options.jwt.clockSkewSeconds }),
        ...(options.jwt.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.jwt.maxTokenBytes }),
        ...(options.jwt.cache === undefined ? {} : { cache: options.jwt.cache }),
      })
    : undefined
  const oidc = options.oidc ? createOidcVerifier(options.oidc.issuers) : undefined

  const configured = new Set<CallerChannel>()
  if (mtlsOn) configured.add('mtls')
  if (xfcc || forwarded) configured.add('xfcc')
  if (jwt) configured.add('jwt')
  if (oidc) configured.add('oidc')
  const order = options.channels ?? DEFAULT_ORDER.filter((c) => configured.has(c))
  if (!Array.isArray(order) || order.length === 0) bad('at least one channel must be accepted')
  for (const c of order) if (!configured.has(c)) bad(`channel "${c}" is listed but not configured`)
  if (new Set(order).size !== order.length) bad('a channel is listed twice')
  const accepted = new Set(order)

  const forwardedCert = options.forwardedCert || undefined
  return Object.freeze({
    order: Object.freeze([...order]),
    accepted,
    mtls: mtlsOn ? { skewMs: skewSeconds * 1000 } : undefined,
    xfcc,
    forwarded,
    jwt,
    oidc,
    oidcAsUser: options.oidc ? options.oidc.asUser === true : false,
    requireSameWorkload: options.requireSameWorkload !== false,
    headers: Object.freeze({
      authorization: accepted.has('jwt') || accepted.has('oidc') ? 'authorization' : undefined,
      xfcc: xfcc && accepted.has('xfcc') ? 'x-forwarded-client-cert' : undefined,
      forwardedCert: forwarded && accepted.has('xfcc') ? forwardedCert?.header.toLowerCase() : undefined,
      forwardedCertChain:
        forwarded && accepted.has('xfcc') ? forwardedCert?.chainHeader?.toLowerCase() : undefined,
    } satisfies CredentialHeaders),
    expected: order.map(describeChannel).join(' or '),
  })
}

function describeChannel(c: CallerChannel): string {
  switch (c) {
    case 'mtls':
      return 'an mTLS client certificate'
    case 'xfcc':
      return 'a certificate forwarded by a trusted proxy'
    case 'jwt':
      return 'a JWT-SVID bearer token'
    case 'oidc':
      return 'a bearer token from a trusted OIDC issuer'
  }
}

/** A startup warning: to the audit logger when there is one, else as a Node process warning. */
function warn(options: CallerVerifierOptions, message: string): void {
  const text = `svidkit: ${message}`
  const audit = options.audit as AuditorOptions | undefined
  const logger = audit && typeof audit === 'object' && 'logger' in audit ? audit.logger : undefined
  if (logger) logger.warn({ svidkit: 'insecure-configuration' }, text)
  else process.emitWarning(text, { code: 'SVIDKIT_INSECURE_CONFIGURATION' })
}
