import type { TrustDomain } from '@svidkit/core/spiffe-id'
import type { TestCA } from '../test-ca.js'

/**
 * One identity the dev agent issues to a workload.
 *
 * @example
 * ```ts
 * const identity: DevAgentIdentity = { spiffeId: '/ns/prod/sa/web', hint: 'internal' }
 * await using agent = await DevAgent.start({ identities: [identity] })
 * ```
 */
export interface DevAgentIdentity {
  /** A SPIFFE ID in the agent's trust domain, or just its path (`/web`). */
  spiffeId: string
  /** The Workload API hint (`internal`, `external`, …). Unique per workload, as the spec requires. */
  hint?: string
}

/**
 * One Workload API socket: a unix socket (preferred) or a loopback TCP port, with the identities it
 * hands out. Node cannot read a unix peer's uid (no `SO_PEERCRED`), so the dev agent attests by
 * socket: every caller of a socket gets that socket's identities (see {@link DevAgentAttestor}).
 *
 * @example
 * ```ts
 * const admin: DevAgentSocket = { name: 'admin', tcp: { port: 0 }, identities: [{ spiffeId: '/admin' }] }
 * await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }], sockets: [admin] })
 * agent.sockets[1]?.address // 'tcp://127.0.0.1:<port>'
 * ```
 */
export interface DevAgentSocket {
  /** A label, passed to the attestor. */
  name?: string
  /** The unix socket path (absolute). */
  socketPath?: string
  /** Loopback TCP instead: `host` defaults to `127.0.0.1`, `port` to 0 (any free port). */
  tcp?: { host?: string; port?: number }
  /** The identities of this socket, first = default. Empty: callers get PermissionDenied. */
  identities?: readonly DevAgentIdentity[]
  /**
   * The trust domain of this socket's workloads. Default: the agent's. Another trust domain makes the
   * socket a stand-in for a **second SPIRE deployment**: the agent holds that trust domain's CA (the
   * federated one of `federation`, or a new one), issues the socket's SVIDs from it, and hands out that
   * trust domain's bundle as the workloads' own bundle. Whether the agent's own workloads trust it is
   * `federation`'s business, as on a SPIRE server.
   */
  trustDomain?: string | TrustDomain
  /**
   * For a socket of another trust domain: the trust domains its workloads get in `federated_bundles`
   * (that other deployment's own federation). Default: the agent's trust domain. Each must be the
   * agent's trust domain or one the agent holds a CA for. Ignored on sockets of the agent's trust domain.
   */
  federatesWith?: readonly (string | TrustDomain)[]
}

/**
 * What the dev agent knows about a caller when it attests it.
 *
 * @example
 * ```ts
 * await DevAgent.start({
 *   identities: [{ spiffeId: '/web' }],
 *   attest: (peer: DevAgentPeer) => (peer.rpc === 'FetchJWTSVID' ? [] : peer.socketIdentities),
 * })
 * ```
 */
export interface DevAgentPeer {
  /** Index of the socket in {@link DevAgent.sockets}. */
  readonly socket: number
  /** The socket's `name`, if any. */
  readonly socketName: string | undefined
  /** The socket's Workload API address (`unix:///…`, `tcp://…`). */
  readonly address: string
  /** The peer as gRPC reports it (`IP:port` over TCP; unix sockets have no peer address). */
  readonly peer: string
  /** The RPC being called (`FetchX509SVID`, …). */
  readonly rpc: string
  /** The identities configured for the socket (the default answer). */
  readonly socketIdentities: readonly DevAgentIdentity[]
}

/**
 * Workload attestation: which identities a caller gets. The default returns the socket's identities.
 * Return `[]` (or `undefined`) for "no identity": the agent answers PermissionDenied.
 *
 * @example
 * ```ts
 * let enrolled = true
 * const attest: DevAgentAttestor = (peer) => (enrolled ? peer.socketIdentities : []) // [] → PermissionDenied
 * await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }], attest })
 * enrolled = false
 * ```
 */
export type DevAgentAttestor = (
  peer: DevAgentPeer,
) => readonly DevAgentIdentity[] | undefined | Promise<readonly DevAgentIdentity[] | undefined>

/**
 * Options of the https_spiffe bundle endpoint.
 *
 * @example
 * ```ts
 * const bundleEndpoint: DevAgentBundleEndpointOptions = { port: 8443, spiffeId: '/spire/server', refreshHintSeconds: 60 }
 * await using agent = await DevAgent.start({ bundleEndpoint })
 * agent.bundleEndpointUrl // 'https://127.0.0.1:8443/'
 * ```
 */
export interface DevAgentBundleEndpointOptions {
  /** Default `127.0.0.1`. */
  host?: string
  /** Default 0 (any free port). */
  port?: number
  /** The endpoint's SPIFFE ID (its server certificate is an X.509-SVID for it). Default `/spire/server`. */
  spiffeId?: string
  /** `spiffe_refresh_hint` of the served bundle. Default 300. */
  refreshHintSeconds?: number
}

/**
 * A federated trust domain of the dev agent.
 *
 * @example
 * ```ts
 * const partner: DevAgentFederation = { trustDomain: 'partner.org', ca: partnerCa }
 * await using agent = await DevAgent.start({ federation: [partner, 'other.org'] })
 * agent.federatedCa('partner.org') === partnerCa // true
 * ```
 */
export interface DevAgentFederation {
  trustDomain: string | TrustDomain
  /** Its CA; default a new in-memory one. */
  ca?: TestCA
}

/**
 * Options for {@link DevAgent.start}.
 *
 * @example
 * ```ts
 * const options: DevAgentOptions = { trustDomain: 'example.org', identities: [{ spiffeId: '/web' }], svidTtlSeconds: 30 }
 * await using agent = await DevAgent.start(options)
 * process.env.SPIFFE_ENDPOINT_SOCKET = agent.address
 * ```
 */
export interface DevAgentOptions {
  /** The agent's trust domain. Default `example.org` (or the trust domain of `ca`). */
  trustDomain?: string | TrustDomain
  /** Use this CA instead of creating one. */
  ca?: TestCA
  /** The first socket's unix path. Default (without `tcp` and `sockets`): `agent.sock` in a new temp dir. */
  socketPath?: string
  /** The first socket on loopback TCP instead. */
  tcp?: { host?: string; port?: number }
  /** The first socket's identities. */
  identities?: readonly DevAgentIdentity[]
  /** More sockets, each with its own identities. */
  sockets?: readonly DevAgentSocket[]
  /** X.509-SVID lifetime in seconds; SVIDs are re-issued at half-life and pushed. Default 60. */
  svidTtlSeconds?: number
  /** JWT-SVID lifetime in seconds. Default 300. */
  jwtSvidTtlSeconds?: number
  /** Federated trust domains: their bundles go in `federated_bundles` and the bundle maps. */
  federation?: readonly (DevAgentFederation | TestCA | string)[]
  /** Serve this trust domain's SPIFFE bundle on an https_spiffe bundle endpoint. */
  bundleEndpoint?: boolean | DevAgentBundleEndpointOptions
  /**
   * Serve bundles to callers without an identity (SPIRE's `allow_unauthenticated_verifiers`): the
   * own trust domain's bundle only. Default `false`: PermissionDenied, as SPIRE.
   */
  allowUnauthenticatedVerifiers?: boolean
  /** Pluggable attestation; default: the socket's identities. */
  attest?: DevAgentAttestor
}

/**
 * What {@link DevAgent.reconfigure} changed.
 *
 * @example
 * ```ts
 * const changed: DevAgentReconfigured = await agent.reconfigure({ ...options, federation: [] })
 * changed.federationRemoved // ['partner.org']
 * ```
 */
export interface DevAgentReconfigured {
  /** Trust domains the agent now federates with that it did not before, sorted. */
  readonly federationAdded: readonly string[]
  /** Trust domains it no longer federates with, sorted. */
  readonly federationRemoved: readonly string[]
  /** Sockets (by name, or index) whose identities or `federatesWith` changed. */
  readonly socketsChanged: readonly string[]
}
