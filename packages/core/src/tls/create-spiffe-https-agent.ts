import { Agent, type AgentOptions, type RequestOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import { createMtlsClientConfig, type MtlsClientConfigOptions } from './create-mtls-client-config.js'

/**
 * Options for {@link createSpiffeHttpsAgent}: the mTLS client options plus `https.Agent` pool options.
 *
 * @example
 * ```ts
 * const options: SpiffeHttpsAgentOptions = { source, authorize: authorizeId('spiffe://example.org/api'), maxSockets: 20 }
 * ```
 */
export interface SpiffeHttpsAgentOptions
  extends MtlsClientConfigOptions,
    Pick<
      AgentOptions,
      | 'keepAlive'
      | 'keepAliveMsecs'
      | 'maxSockets'
      | 'maxTotalSockets'
      | 'maxFreeSockets'
      | 'scheduling'
      | 'timeout'
    > {}

/**
 * An `https.Agent` whose every new connection presents the source's current X.509-SVID and accepts
 * the server only if it verifies as an X.509-SVID of its own trust domain and passes `authorize` (see
 * {@link createMtlsClientConfig}). Rotation is transparent: options are recomputed per connection,
 * kept-alive sockets keep going. TLS session caching is off (`maxCachedSessions: 0`). Keep-alive is on
 * by default. Use a dedicated agent per authorization rule: sockets are pooled per host and port only.
 *
 * @example
 * ```ts
 * import https from 'node:https'
 * import { matchId } from '@svidkit/core/spiffe-id'
 * import { createSpiffeHttpsAgent } from '@svidkit/core/tls'
 *
 * const agent = createSpiffeHttpsAgent({ source, authorize: matchId('spiffe://example.org/api') })
 * https.get('https://api.internal:8443/orders', { agent }, (res) => res.pipe(process.stdout))
 * ```
 */
export function createSpiffeHttpsAgent(options: SpiffeHttpsAgentOptions): Agent {
  const {
    keepAlive = true,
    keepAliveMsecs,
    maxSockets,
    maxTotalSockets,
    maxFreeSockets,
    scheduling,
    timeout,
    ...clientOptions
  } = options ?? ({} as SpiffeHttpsAgentOptions)
  const client = createMtlsClientConfig(clientOptions)
  const poolOptions: AgentOptions = { keepAlive }
  if (keepAliveMsecs !== undefined) poolOptions.keepAliveMsecs = keepAliveMsecs
  if (maxSockets !== undefined) poolOptions.maxSockets = maxSockets
  if (maxTotalSockets !== undefined) poolOptions.maxTotalSockets = maxTotalSockets
  if (maxFreeSockets !== undefined) poolOptions.maxFreeSockets = maxFreeSockets
  if (scheduling !== undefined) poolOptions.scheduling = scheduling
  if (timeout !== undefined) poolOptions.timeout = timeout
  const agent = new Agent({ ...poolOptions, maxCachedSessions: 0 })
  const create = agent.createConnection.bind(agent)
  agent.createConnection = (
    requestOptions: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined => {
    let tlsOptions: ReturnType<typeof client.connectOptions>
    try {
      tlsOptions = client.connectOptions()
    } catch (err) {
      // No SVID to present (closed or expired source): fail this request, not the caller's stack.
      if (!callback) throw err
      callback(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex)
      return undefined
    }
    return create({ ...requestOptions, ...tlsOptions }, callback)
  }
  return agent
}
