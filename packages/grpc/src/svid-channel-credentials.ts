import type { SecureContext } from 'node:tls'
import { type ChannelCredentials, credentials } from '@grpc/grpc-js'
import { createMtlsClientConfig, type MtlsClientConfigOptions } from '@svidkit/core/tls'

/**
 * Options of {@link svidChannelCredentials}: core's `MtlsClientConfigOptions` (`source`, `authorize`,
 * `trustDomains`, `identityTemplate`, `verify`, `minVersion`, `secureContextOptions`, `onVerified`).
 *
 * @example
 * ```ts
 * const options: SvidChannelCredentialsOptions = {
 *   source: x509Source,
 *   authorize: authorizeId('spiffe://example.org/ns/shop/sa/orders'),
 * }
 * ```
 */
export interface SvidChannelCredentialsOptions extends MtlsClientConfigOptions {}

/**
 * grpc-js channel credentials from an X.509 source (go-spiffe `grpccredentials.MTLSClientCredentials`):
 * the channel presents the source's current X.509-SVID and accepts the server only if its chain
 * verifies as an X.509-SVID against the bundle of the server's own trust domain and its SPIFFE ID
 * passes `authorize`. That check is core's `checkServerIdentity`, which replaces the hostname check
 * (the target can be an IP address or any name). Each new connection (grpc-js reconnects, new
 * subchannels) uses the source's SVID and bundles of that moment, so rotation needs no new channel.
 * A server that fails the check never receives a byte of a call; the call fails with 14 UNAVAILABLE.
 *
 * @example
 * ```ts
 * import { credentials } from '@grpc/grpc-js'
 * import { authorizeId } from '@svidkit/core/policy'
 * import { jwtSvidCallCredentials, svidChannelCredentials } from '@svidkit/grpc'
 *
 * const channel = svidChannelCredentials({ source, authorize: authorizeId('spiffe://example.org/ns/shop/sa/orders') })
 * const client = new OrdersClient('orders.internal:50051', channel)
 * // with a JWT-SVID on every call as well:
 * const both = credentials.combineChannelCredentials(channel, jwtSvidCallCredentials({ source: jwtSource, audience: 'orders' }))
 * ```
 */
export function svidChannelCredentials(options: SvidChannelCredentialsOptions): ChannelCredentials {
  const client = createMtlsClientConfig(options)
  // grpc-js keeps the SecureContext it is given; Node reads `secureContext.context` when it creates
  // each TLS socket. Reading it through a getter hands every new connection the context of the
  // source's current SVID and bundles (built once per rotation by core, not per connection).
  const live = Object.freeze({
    get context(): unknown {
      return (client.connectOptions().secureContext as SecureContext).context
    },
  }) as SecureContext
  return credentials.createFromSecureContext(live, { checkServerIdentity: client.checkServerIdentity })
}
