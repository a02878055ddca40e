// What one channel established about a request, before the caller is chosen and built.
import type { X509Certificate } from 'node:crypto'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'

/** A SPIFFE identity from one channel. @internal */
export interface Identity {
  readonly channel: 'mtls' | 'xfcc' | 'jwt'
  readonly spiffeId: SpiffeId
  readonly certificate?: X509Certificate | undefined
  readonly expiresAt?: Date | undefined
  readonly jwt?: JwtSvid
}
