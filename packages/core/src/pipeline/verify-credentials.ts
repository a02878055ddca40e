// Step 1 of the pipeline: verify every present credential of an accepted channel. Any failure fails
// the request; a credential that is present is never ignored.
import { CredentialsError, JwtSvidError } from '../errors/domain-errors.js'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import type { OidcToken } from '../oidc/create-oidc-verifier.js'
import type { CallerCredentials } from './caller-verifier.js'
import type { CallerMemo } from './create-caller-memo.js'
import type { Channels } from './create-channels.js'
import type { Identity } from './identity.js'
import { readBearerToken } from './read-bearer-token.js'

/** Every verified identity of one request. @internal */
export interface VerifiedCredentials {
  /** SPIFFE identities in channel precedence order; the first names the caller. */
  readonly identities: readonly Identity[]
  /** A caller vouched for by a trusted proxy (then the mTLS peer is the proxy, not the caller). */
  readonly proxied: Identity | undefined
  readonly jwtSvid: JwtSvid | undefined
  /** An OIDC token being verified (key fetches are asynchronous). */
  readonly oidcToken: Promise<OidcToken> | undefined
}

/** @internal */
export function verifyCredentials(
  channels: Channels,
  mtlsIdentity: (c: CallerCredentials) => Identity | undefined,
  memo: CallerMemo,
  credentials: CallerCredentials,
): VerifiedCredentials {
  const { accepted, xfcc, forwarded, jwt, oidc } = channels
  const mtls = accepted.has('mtls') && channels.mtls ? mtlsIdentity(credentials) : undefined

  let proxied: Identity | undefined
  if (accepted.has('xfcc')) {
    if (xfcc && credentials.xfcc != null) {
      const r = xfcc.extract({
        header: credentials.xfcc,
        peerAddress: credentials.peerAddress,
        peerSpiffeId: mtls?.spiffeId,
      })
      if (r) proxied = memo.proxied(r.caller, r.certificate, r.expiresAt)
    }
    if (forwarded && credentials.forwardedCert != null) {
      const r = forwarded.extract({
        header: credentials.forwardedCert,
        chainHeader: credentials.forwardedCertChain ?? undefined,
        peerAddress: credentials.peerAddress,
        peerSpiffeId: mtls?.spiffeId,
      })
      // Both proxy headers present: they must agree. An XFCC header that a client sent through a
      // proxy that only writes the forwarded-certificate header (and does not strip XFCC) could
      // otherwise name anyone whose certificate the client has seen.
      if (r && proxied && !proxied.spiffeId.equals(r.caller)) {
        throw new CredentialsError(
          'ERR_CREDENTIALS_CALLER_MISMATCH',
          `the XFCC caller "${proxied.spiffeId}" is not the forwarded-certificate caller "${r.caller}"`,
        )
      }
      if (r && !proxied) proxied = memo.proxied(r.caller, r.certificate, r.expiresAt)
    }
  }

  // A present token names the caller or the request is refused with the code of the channel that
  // would have taken it (optional routes included).
  const token = channels.headers.authorization ? readBearerToken(credentials.authorization) : undefined
  let oidcToken: Promise<OidcToken> | undefined
  let jwtSvid: JwtSvid | undefined
  if (token !== undefined) {
    const iss = oidc ? peekIssuer(token) : undefined
    if (oidc && iss !== undefined && oidc.hasIssuer(iss)) {
      if (!accepted.has('oidc')) {
        throw new CredentialsError(
          'ERR_CREDENTIALS_CHANNEL_NOT_ALLOWED',
          'a token from a configured OIDC issuer, but the oidc channel is not accepted here',
        )
      }
      oidcToken = oidc.verify(token)
    } else if (jwt && accepted.has('jwt')) {
      jwtSvid = jwt.verify(token)
      // One rule for every channel: a trust domain ID names no workload.
      if (jwtSvid.id.path === '') {
        throw new JwtSvidError(
          'ERR_JWT_SVID_SUB_INVALID',
          'token subject is a trust domain ID, not a workload',
        )
      }
    } else if (oidc && accepted.has('oidc')) {
      // Only OIDC takes tokens here: one that is not from a configured issuer is refused
      // (ERR_OIDC_MALFORMED, ERR_OIDC_ISSUER_UNKNOWN) by the OIDC verifier itself.
      oidcToken = oidc.verify(token)
    } else {
      throw new CredentialsError(
        'ERR_CREDENTIALS_CHANNEL_NOT_ALLOWED',
        'no accepted channel takes this token',
      )
    }
  }

  const identities: Identity[] = []
  for (const c of channels.order) {
    if (c === 'xfcc' && proxied) identities.push(proxied)
    if (c === 'mtls' && mtls) identities.push(mtls)
    if (c === 'jwt' && jwtSvid) identities.push(memo.jwt(jwtSvid))
  }
  // When a trusted proxy vouches for the caller, the mTLS peer is the proxy, not the caller.
  const certIdentity = identities.find((i) => i.channel !== 'jwt' && !(i.channel === 'mtls' && proxied))
  if (channels.requireSameWorkload && certIdentity && jwtSvid && !certIdentity.spiffeId.equals(jwtSvid.id)) {
    throw new CredentialsError(
      'ERR_CREDENTIALS_CALLER_MISMATCH',
      `JWT-SVID subject "${jwtSvid.id}" is not the ${certIdentity.channel} caller "${certIdentity.spiffeId}"`,
    )
  }
  return { identities, proxied, jwtSvid, oidcToken }
}

/** The `iss` claim of a compact JWT, read without verification, only to route it; `undefined` if unreadable. */
function peekIssuer(token: string): string | undefined {
  const a = token.indexOf('.')
  const b = a === -1 ? -1 : token.indexOf('.', a + 1)
  if (a <= 0 || b <= a) return undefined
  try {
    const payload = JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString('utf8')) as unknown
    const iss =
      typeof payload === 'object' && payload !== null ? (payload as { iss?: unknown }).iss : undefined
    return typeof iss === 'string' ? iss : undefined
  } catch {
    return undefined
  }
}
