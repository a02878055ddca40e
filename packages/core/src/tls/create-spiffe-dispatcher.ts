import type { SecureContext } from 'node:tls'
import type { Agent, buildConnector } from 'undici'
import { OptionsError } from '../errors/domain-errors.js'
import { createMtlsClientConfig, type MtlsClientConfigOptions } from './create-mtls-client-config.js'
import { loadUndici } from './internal/load-undici.js'

/**
 * Options for {@link createSpiffeDispatcher}: the mTLS client options plus undici `Agent` options.
 *
 * @example
 * ```ts
 * const options: SpiffeDispatcherOptions = { source, authorize: authorizeId('spiffe://example.org/api'), connectTimeout: 5_000 }
 * ```
 */
export interface SpiffeDispatcherOptions
  extends MtlsClientConfigOptions,
    Omit<Agent.Options, 'connect' | 'factory'> {
  /** Connect (TCP + TLS handshake) timeout in milliseconds. Default 10 000, as undici. */
  connectTimeout?: number
  /** Negotiate HTTP/2 through ALPN when the server offers it. Default `false`, as undici. */
  allowH2?: boolean
}

const CLIENT_KEYS = [
  'source',
  'authorize',
  'identityTemplate',
  'verify',
  'trustDomains',
  'minVersion',
  'secureContextOptions',
  'onVerified',
] as const

/**
 * An undici `Agent` (a `Dispatcher`) for `fetch`: every new connection presents the source's current
 * X.509-SVID and accepts the server only if it verifies as an X.509-SVID of its own trust domain and
 * passes `authorize` (see {@link createMtlsClientConfig}). The agent's `connect` computes the TLS
 * options from the source on every new connection, so rotation is transparent; TLS sessions are never
 * resumed; plain `http:` origins are refused. undici writes a request only after `secureConnect`, which
 * Node emits only once `checkServerIdentity` accepted the server.
 *
 * Use it with undici's own `fetch` (`import { fetch } from 'undici'`), or `request`/`stream`: Node 20's
 * global `fetch` bundles a different undici whose dispatcher interface may not match. `undici` is an
 * optional peer dependency (`>=6 <9`).
 *
 * @example
 * ```ts
 * import { fetch } from 'undici'
 * import { matchId } from '@svidkit/core/spiffe-id'
 * import { createSpiffeDispatcher } from '@svidkit/core/tls'
 *
 * const dispatcher = createSpiffeDispatcher({ source, authorize: matchId('spiffe://example.org/api') })
 * const res = await fetch('https://api.internal:8443/orders', { dispatcher })
 * ```
 */
export function createSpiffeDispatcher(options: SpiffeDispatcherOptions): Agent {
  const what = 'createSpiffeDispatcher'
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what} options must be an object`)
  }
  const clientOptions: Record<string, unknown> = {}
  const agentOptions: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) {
    if ((CLIENT_KEYS as readonly string[]).includes(k)) clientOptions[k] = v
    else if (k !== 'connectTimeout' && k !== 'connect' && k !== 'factory') agentOptions[k] = v
  }
  const { connectTimeout, allowH2 } = options
  if (connectTimeout !== undefined && (!Number.isFinite(connectTimeout) || connectTimeout <= 0)) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "connectTimeout" must be a positive number`)
  }
  const client = createMtlsClientConfig(clientOptions as unknown as MtlsClientConfigOptions)
  const undici = loadUndici(what)

  // undici's connector does the socket plumbing (timeout, keep-alive, ALPN); one per secure context,
  // so a rotation builds one new connector and later connections use it.
  let last: { context: SecureContext | undefined; connect: buildConnector.connector } | undefined
  const connect: buildConnector.connector = (target, callback) => {
    if (target.protocol !== 'https:') {
      callback(
        new OptionsError('ERR_OPTIONS_INVALID', `${what}: refusing a plaintext ${target.protocol} origin`),
        null,
      )
      return
    }
    let tlsOptions: ReturnType<typeof client.connectOptions>
    try {
      tlsOptions = client.connectOptions()
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)), null)
      return
    }
    if (!last || last.context !== tlsOptions.secureContext) {
      last = {
        context: tlsOptions.secureContext,
        connect: undici.buildConnector({
          ...tlsOptions,
          maxCachedSessions: 0,
          ...(connectTimeout !== undefined ? { timeout: connectTimeout } : {}),
          ...(allowH2 !== undefined ? { allowH2 } : {}),
        }),
      }
    }
    last.connect(target, callback)
  }
  return new undici.Agent({ ...(agentOptions as Agent.Options), connect })
}
