import { existsSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js'
import { BundleSet, JwtBundle, SpiffeBundle, X509Bundle } from '@svidkit/core/bundle'
import { OptionsError } from '@svidkit/core/errors'
import { type BundleEndpointServer, createBundleEndpointServer } from '@svidkit/core/federation'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { SpiffeId, TrustDomain } from '@svidkit/core/spiffe-id'
import {
  type JwtBundlesResponseMessage,
  type JwtSvidRequestMessage,
  type JwtSvidResponseMessage,
  type ValidateJwtSvidRequestMessage,
  type ValidateJwtSvidResponseMessage,
  WORKLOAD_API_SECURITY_HEADER,
  WORKLOAD_API_SERVICE_NAME,
  workloadApiServiceDefinition,
  type X509BundlesResponseMessage,
  type X509SvidResponseMessage,
} from '@svidkit/core/workload-api/proto'
import type { X509Svid } from '@svidkit/core/x509-svid'
import { TestCA, type TestX509Svid } from '../test-ca.js'
import type {
  DevAgentAttestor,
  DevAgentBundleEndpointOptions,
  DevAgentFederation,
  DevAgentIdentity,
  DevAgentOptions,
  DevAgentPeer,
  DevAgentReconfigured,
  DevAgentSocket,
} from './types.js'

type StreamRpc = 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles'
type GrpcError = { code: number; details: string }

interface SocketState {
  readonly index: number
  readonly name: string | undefined
  readonly socketPath: string | undefined
  readonly tcpHost: string | undefined
  /** The TCP port: as configured until the first bind, then the bound one (kept across restarts). */
  tcpPort: number
  /** The trust domain of the socket's workloads (the agent's, or one it hosts). */
  readonly trustDomain: TrustDomain
  /** Another trust domain's socket: the trust domains in its workloads' `federated_bundles`. */
  federatesWith: string[]
  /** What cannot change without a restart (name, path or TCP address as configured, trust domain). */
  readonly shape: string
  identities: DevAgentIdentity[]
  server: Server | undefined
}

interface Subscriber {
  readonly rpc: StreamRpc
  readonly socket: SocketState
  readonly call: ServerWritableStream<unknown, unknown>
  /** Serializes the pushes of one stream. */
  chain: Promise<void>
  last: Buffer | undefined
  ended: boolean
}

interface IssuedSvid {
  readonly svid: TestX509Svid
  readonly chainDer: Buffer
  readonly keyDer: Buffer
  readonly rotateAt: number
}

const NO_IDENTITY: GrpcError = { code: status.PERMISSION_DENIED, details: 'no identity issued' }

/**
 * A development SPIFFE Workload API server (a stand-in for a SPIRE agent) for tests and local work:
 * the real protocol (`@svidkit/core/workload-api`'s service definition, so SPIRE clients and go-spiffe
 * work against it) on unix sockets or loopback TCP, backed by an in-memory {@link TestCA}.
 *
 * - **Attestation**: Node has no `SO_PEERCRED` API, so a unix peer's uid cannot be read reliably; the
 *   agent attests **by socket** instead: every caller of a socket gets that socket's identities
 *   (several sockets, several identity sets). Pass `attest(peer)` to decide yourself.
 * - **X.509-SVIDs** are issued with a short TTL (`svidTtlSeconds`, default 60) and re-issued at
 *   half-life; every open `FetchX509SVID` stream gets the new full state.
 * - **JWT-SVIDs** are minted for any audience; JWT bundles are streamed; `ValidateJWTSVID` verifies
 *   with `verifyJwtSvid` against the agent's own and federated bundles.
 * - **Federation**: federated trust domains' bundles go in `federated_bundles` and in both bundle
 *   maps; add and remove them at runtime. Optionally an https_spiffe bundle endpoint serves this trust
 *   domain's SPIFFE bundle.
 * - **Errors as SPIRE**: a missing `workload.spiffe.io` header → `InvalidArgument` (on every RPC,
 *   the WIT-SVID profile's included); no identity → `PermissionDenied` (an identity removed mid-stream
 *   ends the stream with it); the WIT-SVID profile's RPCs → `Unimplemented`.
 * - **Test controls**: {@link setIdentities}, {@link revoke}, {@link deny}, {@link rotateNow},
 *   {@link rotateJwtKey}, {@link addFederatedBundle} / {@link removeFederatedBundle}, a CA rotation
 *   ({@link prepareCa}, {@link activateCa}, {@link retireCa}), {@link stop} / {@link start} (kill and
 *   restart on the same sockets), {@link close}.
 *
 * Never use it in production: it hands identities to anyone who can open its socket.
 *
 * @example
 * ```ts
 * import { DevAgent } from '@svidkit/testing'
 * import { X509Source } from '@svidkit/core/workload-api'
 *
 * await using agent = await DevAgent.start({
 *   trustDomain: 'example.org',
 *   socketPath: '/tmp/agent.sock',
 *   identities: [{ spiffeId: '/web' }],
 *   svidTtlSeconds: 30,
 *   federation: ['partner.org'],
 * })
 * await using source = await X509Source.create({ address: agent.address })
 * source.getX509Svid().id.toString() // 'spiffe://example.org/web'
 * ```
 */
export class DevAgent {
  /** The agent's trust domain. */
  readonly trustDomain: TrustDomain
  #ca: TestCA
  /** CAs of this trust domain in its bundle besides the active one, during a CA rotation. */
  #otherCas: TestCA[] = []
  readonly #svidTtlSeconds: number
  readonly #jwtSvidTtlSeconds: number
  readonly #allowUnauthenticated: boolean
  readonly #attest: DevAgentAttestor | undefined
  readonly #sockets: SocketState[]
  readonly #tempDir: string | undefined
  readonly #federated = new Map<string, TestCA>()
  /** CAs of the other trust domains whose workloads the agent serves (sockets with a `trustDomain`). */
  readonly #hosted = new Map<string, TestCA>()
  /** The options of the last {@link start} or {@link reconfigure}, for {@link reconfigure}'s comparison. */
  #options: DevAgentOptions
  readonly #svids = new Map<string, IssuedSvid>()
  readonly #issuing = new Map<string, Promise<IssuedSvid>>()
  readonly #subscribers = new Set<Subscriber>()
  readonly #endpointOptions: DevAgentBundleEndpointOptions | undefined
  #endpoint: BundleEndpointServer | undefined
  #endpointSvid: X509Svid | undefined
  #endpointId: SpiffeId | undefined
  #bundleSequence = 1n
  #deniedUntil = 0
  #rotationTimer: NodeJS.Timeout | undefined
  #rotating: Promise<void> | undefined
  #running = false
  #closed = false

  private constructor(
    options: DevAgentOptions,
    ca: TestCA,
    sockets: SocketState[],
    tempDir: string | undefined,
  ) {
    this.#ca = ca
    this.trustDomain = ca.trustDomain
    this.#svidTtlSeconds = options.svidTtlSeconds ?? 60
    this.#jwtSvidTtlSeconds = options.jwtSvidTtlSeconds ?? 300
    this.#allowUnauthenticated = options.allowUnauthenticatedVerifiers ?? false
    this.#attest = options.attest
    this.#sockets = sockets
    this.#tempDir = tempDir
    this.#options = options
    const be = options.bundleEndpoint
    this.#endpointOptions = be === true ? {} : be === false || be === undefined ? undefined : be
  }

  /**
   * Creates the CA(s), issues the configured identities' SVIDs, and starts listening.
   *
   * @throws OptionsError for invalid options (checked before anything starts)
   * @example
   * ```ts
   * const agent = await DevAgent.start({ identities: ['/web'].map((spiffeId) => ({ spiffeId })) })
   * process.env.SPIFFE_ENDPOINT_SOCKET = agent.address
   * ```
   */
  static async start(options: DevAgentOptions = {}): Promise<DevAgent> {
    checkOptions(options)
    const ca =
      options.ca ??
      (await TestCA.create({
        trustDomain: options.trustDomain === undefined ? 'example.org' : String(options.trustDomain),
      }))
    if (
      options.ca &&
      options.trustDomain !== undefined &&
      !ca.trustDomain.equals(String(options.trustDomain))
    ) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        'DevAgent: trustDomain differs from the trust domain of ca',
      )
    }
    let { sockets: configured, needsTempSocket } = configuredSockets(options)
    let tempDir: string | undefined
    if (needsTempSocket) {
      tempDir = mkdtempSync(join(tmpdir(), 'svidkit-agent-'))
      configured = [{ ...configured[0], socketPath: join(tempDir, 'agent.sock') }, ...configured.slice(1)]
    }
    const sockets = configured.map((s, index): SocketState => {
      const td = socketTrustDomain(s, ca.trustDomain)
      return {
        index,
        name: s.name,
        socketPath: s.socketPath,
        tcpHost: s.tcp ? (s.tcp.host ?? '127.0.0.1') : undefined,
        tcpPort: s.tcp?.port ?? 0,
        trustDomain: td,
        federatesWith: federatesWithOf(s, ca.trustDomain),
        shape: socketShape(s, td),
        identities: [...(s.identities ?? [])],
        server: undefined,
      }
    })
    const agent = new DevAgent(options, ca, sockets, tempDir)
    try {
      for (const s of sockets) agent.#checkIdentities(s.identities, s.trustDomain) // validate IDs early
      for (const f of options.federation ?? []) await agent.addFederatedBundle(f)
      await agent.#hostTrustDomains()
      await agent.#issueConfigured()
      if (agent.#endpointOptions) await agent.#startBundleEndpoint(agent.#endpointOptions)
      await agent.#listen()
    } catch (err) {
      await agent.close()
      throw err
    }
    return agent
  }

  /** Restarts a {@link stop}ped agent on the same sockets (same CA, identities and SVIDs). */
  async start(): Promise<void> {
    if (this.#closed) throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: closed agents cannot restart')
    if (this.#running) return
    await this.#listen()
  }

  // --- addresses -------------------------------------------------------------------------------

  /** The Workload API address of the first socket (`unix:///…` or `tcp://IP:port`). */
  get address(): string {
    return this.#addressOf(this.#sockets[0]!)
  }

  /** Every socket: its address, name and current identities. */
  get sockets(): readonly {
    address: string
    name: string | undefined
    /** The trust domain of the socket's workloads. */
    trustDomain: TrustDomain
    identities: readonly DevAgentIdentity[]
  }[] {
    return this.#sockets.map((s) => ({
      address: this.#addressOf(s),
      name: s.name,
      trustDomain: s.trustDomain,
      identities: [...s.identities],
    }))
  }

  /** The first socket's unix path, when it is a unix socket. */
  get socketPath(): string | undefined {
    return this.#sockets[0]!.socketPath
  }

  /** Whether the agent is serving (false after {@link stop} / {@link close}). */
  get running(): boolean {
    return this.#running
  }

  /** The bundle endpoint URL (`https://127.0.0.1:<port>/`), when enabled. */
  get bundleEndpointUrl(): string | undefined {
    return this.#endpoint?.url.href
  }

  /** The bundle endpoint's SPIFFE ID (its server certificate's), when enabled. */
  get bundleEndpointId(): SpiffeId | undefined {
    return this.#endpoint ? this.#endpointId : undefined
  }

  #addressOf(s: SocketState): string {
    if (s.socketPath !== undefined) return `unix://${s.socketPath}`
    const host = s.tcpHost!.includes(':') ? `[${s.tcpHost}]` : s.tcpHost
    return `tcp://${host}:${s.tcpPort}`
  }

  // --- bundles -----------------------------------------------------------------------------------

  /** The agent's own SPIFFE bundle plus every federated one. */
  bundles(): BundleSet {
    return new BundleSet([this.#ownBundle(), ...[...this.#federated.values()].map((ca) => ca.spiffeBundle())])
  }

  /** The CA of a federated trust domain (to issue peer SVIDs and tokens in tests). */
  federatedCa(trustDomain: string | TrustDomain): TestCA | undefined {
    return this.#federated.get(TrustDomain.parse(String(trustDomain)).name)
  }

  /**
   * The CA the agent holds for a trust domain: its own (the active one), a federated one, or one of a
   * socket of another trust domain (federated or not).
   */
  caOf(trustDomain: string | TrustDomain): TestCA | undefined {
    const name = TrustDomain.parse(String(trustDomain)).name
    if (name === this.trustDomain.name) return this.#ca
    return this.#hosted.get(name) ?? this.#federated.get(name)
  }

  /** The federated trust domains, sorted. */
  get federatedTrustDomains(): TrustDomain[] {
    return [...this.#federated.keys()].sort().map((n) => TrustDomain.parse(n))
  }

  #ownBundle(): SpiffeBundle {
    return SpiffeBundle.from({
      x509: this.#ownX509Bundle(),
      jwt: this.#ownJwtBundle(),
      refreshHintSeconds: this.#endpointOptions?.refreshHintSeconds ?? 300,
      sequenceNumber: this.#bundleSequence,
    })
  }

  /** This trust domain's X.509 authorities: the active CA's root, then any other CA of a rotation. */
  #ownX509Bundle(): X509Bundle {
    const roots = [this.#ca, ...this.#otherCas].map((ca) => ca.root.certificate)
    return new X509Bundle(this.trustDomain, [...new Map(roots.map((c) => [c.fingerprint256, c])).values()])
  }

  #ownJwtBundle(): JwtBundle {
    const keys = [this.#ca, ...this.#otherCas].flatMap((ca) => [...ca.jwtBundle().authorities.values()])
    return new JwtBundle(this.trustDomain, [...new Map(keys.map((k) => [k.kid, k])).values()])
  }

  /** The agent's active CA: it issues the X.509-SVIDs and JWT-SVIDs. */
  get ca(): TestCA {
    return this.#ca
  }

  // --- CA rotation (as SPIRE: prepared, active, retired) ------------------------------------------

  /**
   * CA rotation, step 1: a new CA for this trust domain (or the one given) joins the trust bundle and
   * the bundle is pushed; SVIDs are still issued by the active CA. Returns the new CA.
   */
  async prepareCa(ca?: TestCA): Promise<TestCA> {
    const next = ca ?? (await TestCA.create({ trustDomain: this.trustDomain }))
    if (!next.trustDomain.equals(this.trustDomain)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent.prepareCa: the CA is for another trust domain')
    }
    this.#otherCas.push(next)
    this.#bundleSequence++
    this.#publish()
    return next
  }

  /**
   * Step 2: the CA prepared last becomes the active one; every X.509-SVID is re-issued by it and
   * pushed. The previous CA stays in the bundle until {@link retireCa}.
   */
  async activateCa(): Promise<void> {
    const next = this.#otherCas.pop()
    if (!next) throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent.activateCa: no CA was prepared')
    this.#otherCas.push(this.#ca)
    this.#ca = next
    await this.#rotate(true)
  }

  /** Step 3: every CA but the active one leaves the trust bundle, which is pushed. Returns them. */
  retireCa(): TestCA[] {
    const retired = this.#otherCas
    this.#otherCas = []
    this.#bundleSequence++
    this.#publish()
    return retired
  }

  /**
   * Federates with a trust domain (the CA given; for a name, the CA the agent already holds for it —
   * federated, or of a socket of that trust domain — or a new one) and pushes the new bundles.
   * Returns the federated CA.
   */
  async addFederatedBundle(federation: DevAgentFederation | TestCA | string | TrustDomain): Promise<TestCA> {
    let ca: TestCA
    if (federation instanceof TestCA) ca = federation
    else if (typeof federation === 'string' || federation instanceof TrustDomain) {
      ca = this.caOf(federation) ?? (await TestCA.create({ trustDomain: String(federation) }))
    } else {
      if (federation.ca && !federation.ca.trustDomain.equals(String(federation.trustDomain))) {
        throw new OptionsError(
          'ERR_OPTIONS_INVALID',
          `dev agent: federation trust domain "${federation.trustDomain}" does not match its CA's "${federation.ca.trustDomain}"`,
        )
      }
      ca =
        federation.ca ??
        this.caOf(federation.trustDomain) ??
        (await TestCA.create({ trustDomain: String(federation.trustDomain) }))
    }
    if (ca.trustDomain.equals(this.trustDomain)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: cannot federate with its own trust domain')
    }
    const hosted = this.#hosted.get(ca.trustDomain.name)
    if (hosted && hosted !== ca) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `DevAgent: the agent already holds another CA for ${ca.trustDomain} (a socket of that trust domain)`,
      )
    }
    this.#federated.set(ca.trustDomain.name, ca)
    this.#publish()
    return ca
  }

  /**
   * Stops federating with a trust domain; the next message of every stream of the agent's trust domain
   * no longer carries it. Sockets of that trust domain keep their CA and SVIDs (the other deployment
   * still runs), and keep the agent's bundle if their `federatesWith` names it.
   */
  removeFederatedBundle(trustDomain: string | TrustDomain): boolean {
    const had = this.#federated.delete(TrustDomain.parse(String(trustDomain)).name)
    if (had) this.#publish()
    return had
  }

  /** Creates (or takes from `federation`) the CA of every socket's trust domain other than the agent's. */
  async #hostTrustDomains(): Promise<void> {
    for (const s of this.#sockets) {
      const name = s.trustDomain.name
      if (name === this.trustDomain.name || this.#hosted.has(name)) continue
      this.#hosted.set(
        name,
        this.#federated.get(name) ?? (await TestCA.create({ trustDomain: s.trustDomain })),
      )
    }
    for (const s of this.#sockets) {
      for (const name of s.federatesWith) {
        if (!this.caOf(name)) {
          throw new OptionsError(
            'ERR_OPTIONS_INVALID',
            `DevAgent: socket ${s.name ?? s.index} federates with ${name}, a trust domain the agent holds no CA for`,
          )
        }
      }
    }
  }

  // --- reconfiguration ---------------------------------------------------------------------------

  /**
   * Applies a new configuration to the running agent, as SPIRE picks up changed registration entries and
   * federation relationships without a restart: each socket's identities and `federatesWith`, and the
   * federated trust domains (a new one gets a new CA, or the one of a socket of that trust domain; a
   * removed one leaves the bundles of the agent's workloads). Every change is pushed on the open
   * Workload API streams at once. `svidkit agent` calls this on SIGHUP.
   *
   * Everything else needs a restart — the trust domain, the sockets (names, paths, TCP addresses,
   * trust domains), TTLs, `allowUnauthenticatedVerifiers` and the bundle endpoint. `ca` and `attest`
   * are kept (rotate the CA with {@link prepareCa}).
   *
   * @throws OptionsError `ERR_OPTIONS_INVALID` when the options are invalid or change something that
   * needs a restart; then nothing was changed.
   * @example
   * ```ts
   * const agent = await DevAgent.start(await loadDevAgentConfig('agent.yaml'))
   * process.on('SIGHUP', async () => {
   *   const changed = await agent.reconfigure(await loadDevAgentConfig('agent.yaml'))
   *   console.log('federation removed:', changed.federationRemoved)
   * })
   * ```
   */
  async reconfigure(options: DevAgentOptions): Promise<DevAgentReconfigured> {
    if (this.#closed) throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: the agent is closed')
    checkOptions(options)
    const restart = (what: string): never => {
      throw new OptionsError('ERR_OPTIONS_INVALID', `DevAgent.reconfigure: changing ${what} needs a restart`)
    }
    const td =
      options.ca?.trustDomain ?? parseTrustDomain(options.trustDomain ?? 'example.org', 'trustDomain')
    if (!td.equals(this.trustDomain)) restart(`the trust domain (${this.trustDomain} → ${td})`)
    const old = this.#options
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
    if ((options.svidTtlSeconds ?? 60) !== (old.svidTtlSeconds ?? 60)) restart('svidTtlSeconds')
    if ((options.jwtSvidTtlSeconds ?? 300) !== (old.jwtSvidTtlSeconds ?? 300)) restart('jwtSvidTtlSeconds')
    if ((options.allowUnauthenticatedVerifiers ?? false) !== (old.allowUnauthenticatedVerifiers ?? false)) {
      restart('allowUnauthenticatedVerifiers')
    }
    if (!same(options.bundleEndpoint || undefined, old.bundleEndpoint || undefined)) restart('bundleEndpoint')
    let { sockets: configured, needsTempSocket } = configuredSockets(options)
    if (needsTempSocket !== (this.#tempDir !== undefined)) restart('the sockets')
    if (needsTempSocket)
      configured = [{ ...configured[0], socketPath: this.#sockets[0]!.socketPath! }, ...configured.slice(1)]
    if (configured.length !== this.#sockets.length) restart('the number of sockets')
    const next = configured.map((c, i) => {
      const s = this.#sockets[i]!
      const shape = socketShape(c, socketTrustDomain(c, this.trustDomain))
      if (shape !== s.shape) restart(`socket ${s.name ?? i} (its name, address or trust domain)`)
      const identities = [...(c.identities ?? [])]
      this.#checkIdentities(identities, s.trustDomain)
      return { s, identities, federatesWith: federatesWithOf(c, this.trustDomain) }
    })
    // The federation: by trust domain name; an unchanged name keeps its CA.
    const wanted = new Map<string, DevAgentFederation | TestCA | string>()
    for (const f of options.federation ?? []) {
      const name =
        f instanceof TestCA ? f.trustDomain.name : typeof f === 'string' ? f : String(f.trustDomain)
      const parsed = parseTrustDomain(name, 'federation trust domain')
      if (parsed.equals(this.trustDomain)) {
        throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: cannot federate with its own trust domain')
      }
      wanted.set(parsed.name, f)
    }
    for (const { s, federatesWith } of next) {
      for (const name of federatesWith) {
        if (name !== this.trustDomain.name && !this.#hosted.has(name) && !wanted.has(name)) {
          throw new OptionsError(
            'ERR_OPTIONS_INVALID',
            `DevAgent: socket ${s.name ?? s.index} federates with ${name}, a trust domain the agent holds no CA for`,
          )
        }
      }
    }
    // Valid: apply it.
    const added: string[] = []
    const removed: string[] = []
    for (const name of [...this.#federated.keys()]) {
      if (!wanted.has(name)) {
        this.#federated.delete(name)
        removed.push(name)
      }
    }
    for (const [name, f] of wanted) {
      if (this.#federated.has(name)) continue
      await this.addFederatedBundle(f)
      added.push(name)
    }
    const changedSockets: string[] = []
    for (const { s, identities, federatesWith } of next) {
      if (!same(identities, s.identities) || !same(federatesWith, s.federatesWith)) {
        changedSockets.push(s.name ?? String(s.index))
      }
      s.identities = identities
      s.federatesWith = federatesWith
    }
    this.#options = { ...options, ...(this.#options.attest ? { attest: this.#options.attest } : {}) }
    this.#prune()
    await this.#issueConfigured()
    this.#publish()
    return {
      federationAdded: added.sort(),
      federationRemoved: removed.sort(),
      socketsChanged: changedSockets,
    }
  }

  // --- identities --------------------------------------------------------------------------------

  /** Replaces the identities of a socket (default the first) and pushes the new state. */
  async setIdentities(
    identities: readonly DevAgentIdentity[],
    options: { socket?: number | string } = {},
  ): Promise<void> {
    const s = this.#socket(options.socket)
    this.#checkIdentities(identities, s.trustDomain)
    s.identities = [...identities]
    this.#prune()
    await this.#issueConfigured()
    this.#publish()
  }

  /**
   * Revokes an identity everywhere (or on one socket): the next message of every stream drops its
   * SVID (redaction); a workload left without identities gets PermissionDenied.
   */
  revoke(spiffeId: string | SpiffeId, options: { socket?: number | string } = {}): void {
    const id = this.#anyId(String(spiffeId)).toString()
    const targets = options.socket === undefined ? this.#sockets : [this.#socket(options.socket)]
    for (const s of targets) {
      s.identities = s.identities.filter((i) => this.#id(i, s.trustDomain).toString() !== id)
    }
    this.#prune()
    this.#publish()
  }

  /**
   * Answers PermissionDenied to every call for `durationMs` (default: until {@link allow}), as an agent
   * does for a workload not yet registered. Open streams end with PermissionDenied at once.
   */
  deny(durationMs?: number): void {
    this.#deniedUntil = durationMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + durationMs
    this.#publish()
  }

  /** Ends a {@link deny}. */
  allow(): void {
    this.#deniedUntil = 0
  }

  /** The X.509-SVID currently issued for an identity (what the agent serves). */
  x509Svid(spiffeId: string | SpiffeId): TestX509Svid | undefined {
    return this.#svids.get(this.#anyId(String(spiffeId)).toString())?.svid
  }

  /** Re-issues every X.509-SVID now and pushes them. */
  async rotateNow(): Promise<void> {
    await this.#rotate(true)
  }

  /** Rotates the JWT signing key (the old key stays in the bundle unless `dropOld`) and pushes the bundles. */
  async rotateJwtKey(options: { dropOld?: boolean } = {}): Promise<string> {
    const kid = await this.ca.rotateJwtKey(options)
    this.#bundleSequence++
    this.#publish()
    return kid
  }

  #socket(ref: number | string | undefined): SocketState {
    const s =
      ref === undefined
        ? this.#sockets[0]
        : typeof ref === 'number'
          ? this.#sockets[ref]
          : this.#sockets.find((x) => x.name === ref)
    if (!s) throw new OptionsError('ERR_OPTIONS_INVALID', `DevAgent: no socket ${JSON.stringify(ref)}`)
    return s
  }

  /** Valid workload IDs of this trust domain, hints unique (Workload API §5.2.1: servers MUST ensure it). */
  #checkIdentities(identities: readonly DevAgentIdentity[], trustDomain: TrustDomain): void {
    if (!Array.isArray(identities))
      throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: identities must be a list')
    const hints = new Set<string>()
    for (const i of identities) {
      this.#id(i, trustDomain)
      if (i.hint === undefined || i.hint === '') continue
      if (typeof i.hint !== 'string' || hints.has(i.hint)) {
        throw new OptionsError(
          'ERR_OPTIONS_INVALID',
          `DevAgent: hint ${JSON.stringify(i.hint)} is not a unique string`,
        )
      }
      hints.add(i.hint)
    }
  }

  /** A path (`/web`, in the agent's trust domain) or a full SPIFFE ID of any trust domain. */
  #anyId(raw: string): SpiffeId {
    const td = raw.startsWith('/') ? undefined : SpiffeId.tryParse(raw)?.trustDomain
    return this.#id({ spiffeId: raw }, td ?? this.trustDomain)
  }

  #id(identity: DevAgentIdentity, trustDomain: TrustDomain = this.trustDomain): SpiffeId {
    const raw = identity?.spiffeId
    let id: SpiffeId | undefined
    if (typeof raw === 'string') {
      id = raw.startsWith('/') ? SpiffeId.tryParse(`${trustDomain.idString()}${raw}`) : SpiffeId.tryParse(raw)
    }
    if (!id || id.isRoot) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `DevAgent: ${JSON.stringify(raw)} is not a workload SPIFFE ID`,
      )
    }
    if (!id.memberOf(trustDomain)) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `DevAgent: ${id} is not in the trust domain ${trustDomain}`,
      )
    }
    return id
  }

  // --- SVID issuance and rotation ------------------------------------------------------------------

  async #issueConfigured(): Promise<void> {
    for (const s of this.#sockets) {
      for (const i of s.identities) await this.#svidFor(this.#id(i, s.trustDomain))
    }
  }

  #svidFor(id: SpiffeId): Promise<IssuedSvid> {
    const key = id.toString()
    const have = this.#svids.get(key)
    if (have) return Promise.resolve(have)
    return this.#issue(id)
  }

  #issue(id: SpiffeId): Promise<IssuedSvid> {
    const key = id.toString()
    const running = this.#issuing.get(key)
    if (running) return running
    const p = (async () => {
      const ttl = this.#svidTtlSeconds
      const svid = await this.#issuerOf(id).issueX509Svid({ id, ttlSeconds: ttl })
      const issued: IssuedSvid = {
        svid,
        chainDer: Buffer.concat(svid.certificatesDer),
        keyDer: svid.privateKey.export({ format: 'der', type: 'pkcs8' }),
        rotateAt: Date.now() + (ttl * 1000) / 2,
      }
      if (!this.#closed) this.#svids.set(key, issued)
      this.#scheduleRotation()
      return issued
    })().finally(() => this.#issuing.delete(key))
    this.#issuing.set(key, p)
    return p
  }

  /** Drops issued SVIDs no socket refers to (only without a custom attestor, which may use any). */
  #prune(): void {
    if (this.#attest) return
    const keep = new Set(
      this.#sockets.flatMap((s) => s.identities.map((i) => this.#id(i, s.trustDomain).toString())),
    )
    for (const k of this.#svids.keys()) if (!keep.has(k)) this.#svids.delete(k)
  }

  #scheduleRotation(): void {
    if (this.#closed) return
    if (this.#rotationTimer) clearTimeout(this.#rotationTimer)
    this.#rotationTimer = undefined
    let next = Number.POSITIVE_INFINITY
    for (const s of this.#svids.values()) next = Math.min(next, s.rotateAt)
    if (this.#endpointSvid) {
      const half = this.#endpointSvid.expiresAt.getTime() - (this.#svidTtlSeconds * 1000) / 2
      next = Math.min(next, half)
    }
    if (next === Number.POSITIVE_INFINITY) return
    this.#rotationTimer = setTimeout(() => void this.#rotate(false), Math.max(0, next - Date.now()))
    this.#rotationTimer.unref()
  }

  async #rotate(all: boolean): Promise<void> {
    if (this.#rotating) await this.#rotating.catch(() => undefined)
    this.#rotating = (async () => {
      const now = Date.now()
      const due = [...this.#svids.entries()].filter(([, s]) => all || s.rotateAt <= now + 50)
      for (const [key] of due) {
        if (this.#closed) return
        this.#svids.delete(key)
        await this.#issue(SpiffeId.parse(key))
      }
      if (
        this.#endpointSvid &&
        (all || this.#endpointSvid.expiresAt.getTime() - now <= (this.#svidTtlSeconds * 1000) / 2 + 50)
      ) {
        this.#endpointSvid = await this.ca.issueX509Svid({
          id: this.#endpointId!,
          ttlSeconds: this.#svidTtlSeconds,
        })
      }
      if (due.length > 0) this.#publish()
      this.#scheduleRotation()
    })()
    try {
      await this.#rotating
    } finally {
      this.#rotating = undefined
    }
  }

  // --- bundle endpoint ---------------------------------------------------------------------------

  async #startBundleEndpoint(o: DevAgentBundleEndpointOptions): Promise<void> {
    const raw = o.spiffeId ?? '/spire/server'
    this.#endpointId = this.#id({ spiffeId: raw })
    this.#endpointSvid = await this.ca.issueX509Svid({
      id: this.#endpointId,
      ttlSeconds: this.#svidTtlSeconds,
    })
    this.#endpoint = await createBundleEndpointServer({
      trustDomain: this.trustDomain,
      source: {
        getSpiffeBundleForTrustDomain: (td: TrustDomain) =>
          td.equals(this.trustDomain) ? this.#ownBundle() : undefined,
      },
      svidSource: { getX509Svid: () => this.#endpointSvid! },
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
    })
    this.#scheduleRotation()
  }

  // --- serving -----------------------------------------------------------------------------------

  async #listen(): Promise<void> {
    for (const s of this.#sockets) {
      const server = new Server()
      server.addService(workloadApiServiceDefinition, {
        FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) =>
          this.#subscribe('FetchX509SVID', s, call),
        FetchX509Bundles: (call: ServerWritableStream<unknown, unknown>) =>
          this.#subscribe('FetchX509Bundles', s, call),
        FetchJWTBundles: (call: ServerWritableStream<unknown, unknown>) =>
          this.#subscribe('FetchJWTBundles', s, call),
        FetchJWTSVID: (
          call: ServerUnaryCall<JwtSvidRequestMessage, JwtSvidResponseMessage>,
          cb: sendUnaryData<JwtSvidResponseMessage>,
        ) => {
          this.#fetchJwtSvid(s, call).then(
            (r) => cb(null, r),
            (e: GrpcError) => cb(e),
          )
        },
        ValidateJWTSVID: (
          call: ServerUnaryCall<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage>,
          cb: sendUnaryData<ValidateJwtSvidResponseMessage>,
        ) => {
          this.#validateJwtSvid(s, call).then(
            (r) => cb(null, r),
            (e: GrpcError) => cb(e),
          )
        },
      })
      // The WIT-SVID profile (Incubating) is not served, but its RPCs answer as SPIRE's do: the
      // security header is checked first (InvalidArgument, as for every request, Workload Endpoint §3),
      // then Unimplemented, which tells clients not to retry (Workload API §7). grpc-js would otherwise
      // answer Unimplemented before looking at the header.
      for (const [rpc, what] of [
        ['FetchWITSVID', 'WIT-SVIDs'],
        ['FetchWITBundles', 'WIT bundles'],
      ] as const) {
        server.register<Buffer, Buffer>(
          `/${WORKLOAD_API_SERVICE_NAME}/${rpc}`,
          (call: ServerWritableStream<Buffer, Buffer>) => {
            call.emit(
              'error',
              this.#hasHeader(call.metadata)
                ? { code: status.UNIMPLEMENTED, details: `fetching ${what} is not implemented` }
                : header(),
            )
          },
          (b: Buffer) => b,
          (b: Buffer) => b,
          'serverStream',
        )
      }
      let target: string
      if (s.socketPath !== undefined) {
        removeStaleSocket(s.socketPath)
        target = `unix:${s.socketPath}`
      } else {
        const host = s.tcpHost!.includes(':') ? `[${s.tcpHost}]` : s.tcpHost
        target = `${host}:${s.tcpPort}`
      }
      const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(target, ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        )
      }).catch((err: unknown) => {
        server.forceShutdown()
        throw err
      })
      if (s.socketPath === undefined) s.tcpPort = port
      s.server = server
    }
    this.#running = true
  }

  /** Kills every socket (open streams fail on the client side) but keeps the state; {@link start} resumes. */
  async stop(): Promise<void> {
    this.#running = false
    for (const sub of this.#subscribers) sub.ended = true
    this.#subscribers.clear()
    for (const s of this.#sockets) {
      s.server?.forceShutdown()
      s.server = undefined
      if (s.socketPath !== undefined) removeStaleSocket(s.socketPath)
    }
    // Let the HTTP/2 sessions' close events run before a restart binds the same path.
    await new Promise<void>((r) => setImmediate(r))
  }

  /** Stops everything (sockets, timers, bundle endpoint) and removes the temp dir. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#rotationTimer) clearTimeout(this.#rotationTimer)
    this.#rotationTimer = undefined
    await this.#rotating?.catch(() => undefined)
    await Promise.allSettled([...this.#issuing.values()])
    await this.stop()
    await this.#endpoint?.close()
    this.#endpoint = undefined
    if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #hasHeader(metadata: { get(key: string): unknown[] }): boolean {
    const v = metadata.get(WORKLOAD_API_SECURITY_HEADER)
    return v.length === 1 && v[0] === 'true'
  }

  async #identitiesOf(s: SocketState, rpc: string, peer: string): Promise<DevAgentIdentity[]> {
    if (Date.now() < this.#deniedUntil) return []
    if (!this.#attest) return s.identities
    const p: DevAgentPeer = {
      socket: s.index,
      socketName: s.name,
      address: this.#addressOf(s),
      peer,
      rpc,
      socketIdentities: [...s.identities],
    }
    return [...((await this.#attest(p)) ?? [])]
  }

  #subscribe(rpc: StreamRpc, socket: SocketState, call: ServerWritableStream<unknown, unknown>): void {
    if (!this.#hasHeader(call.metadata)) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'security header missing from request' })
      return
    }
    const sub: Subscriber = { rpc, socket, call, chain: Promise.resolve(), last: undefined, ended: false }
    this.#subscribers.add(sub)
    const drop = (): void => {
      sub.ended = true
      this.#subscribers.delete(sub)
    }
    call.on('cancelled', drop)
    call.on('close', drop)
    call.on('error', drop)
    this.#push(sub)
  }

  /** Pushes the current state to every open stream (each compares with what it last sent). */
  #publish(): void {
    for (const sub of this.#subscribers) this.#push(sub)
  }

  #push(sub: Subscriber): void {
    sub.chain = sub.chain.then(async () => {
      if (sub.ended) return
      let msg: unknown
      let bytes: Buffer
      try {
        msg = await this.#compose(sub)
        bytes = workloadApiServiceDefinition[sub.rpc].responseSerialize(msg as never)
      } catch (err) {
        this.#end(
          sub,
          isGrpcError(err)
            ? err
            : { code: status.INTERNAL, details: err instanceof Error ? err.message : 'failed' },
        )
        return
      }
      if (sub.ended) return
      if (sub.last?.equals(bytes)) return
      sub.last = bytes
      sub.call.write(msg)
    })
  }

  #end(sub: Subscriber, err: GrpcError): void {
    if (sub.ended) return
    sub.ended = true
    this.#subscribers.delete(sub)
    sub.call.emit('error', err)
  }

  async #compose(sub: Subscriber): Promise<unknown> {
    const identities = await this.#identitiesOf(sub.socket, sub.rpc, sub.call.getPeer())
    const has = identities.length > 0
    const socket = sub.socket
    if (sub.rpc === 'FetchX509SVID') {
      if (!has) throw NO_IDENTITY
      const own = this.#x509BundleOf(socket.trustDomain.name).toDer()
      const svids = []
      for (const i of identities) {
        const issued = await this.#svidFor(this.#id(i, socket.trustDomain))
        svids.push({
          spiffeId: issued.svid.id.toString(),
          x509Svid: issued.chainDer,
          x509SvidKey: issued.keyDer,
          bundle: own,
          hint: i.hint ?? '',
        })
      }
      const federatedBundles: Record<string, Uint8Array> = {}
      for (const td of this.#federatedOf(socket))
        federatedBundles[`spiffe://${td}`] = this.#x509BundleOf(td).toDer()
      return { svids, crl: [], federatedBundles } satisfies X509SvidResponseMessage
    }
    if (!has && !this.#allowUnauthenticated) throw NO_IDENTITY
    // As SPIRE: without an identity only the own trust domain's bundle is released.
    const domains = [socket.trustDomain.name, ...(has ? this.#federatedOf(socket) : [])]
    if (sub.rpc === 'FetchX509Bundles') {
      const bundles: Record<string, Uint8Array> = {}
      for (const td of domains) bundles[`spiffe://${td}`] = this.#x509BundleOf(td).toDer()
      return { crl: [], bundles } satisfies X509BundlesResponseMessage
    }
    const bundles: Record<string, Uint8Array> = {}
    for (const td of domains)
      bundles[`spiffe://${td}`] = Buffer.from(JSON.stringify(this.#jwtBundleOf(td).toJwks()))
    return { bundles } satisfies JwtBundlesResponseMessage
  }

  /**
   * The trust domains whose bundles a socket's workloads get as federated: for the agent's trust
   * domain, every federated one; for another trust domain, its `federatesWith` (the agent's trust
   * domain, by default).
   */
  #federatedOf(s: SocketState): string[] {
    if (s.trustDomain.equals(this.trustDomain)) return [...this.#federated.keys()]
    return s.federatesWith.filter((td) => td !== s.trustDomain.name && this.caOf(td) !== undefined)
  }

  #x509BundleOf(trustDomain: string): X509Bundle {
    return trustDomain === this.trustDomain.name
      ? this.#ownX509Bundle()
      : this.caOf(trustDomain)!.x509Bundle()
  }

  #jwtBundleOf(trustDomain: string): JwtBundle {
    return trustDomain === this.trustDomain.name ? this.#ownJwtBundle() : this.caOf(trustDomain)!.jwtBundle()
  }

  /** The CA that issues an identity's SVIDs: the agent's, or that of the socket's trust domain. */
  #issuerOf(id: SpiffeId): TestCA {
    const ca = this.caOf(id.trustDomain)
    if (!ca) throw new OptionsError('ERR_OPTIONS_INVALID', `DevAgent: no CA for ${id.trustDomain}`)
    return ca
  }

  async #fetchJwtSvid(
    s: SocketState,
    call: ServerUnaryCall<JwtSvidRequestMessage, JwtSvidResponseMessage>,
  ): Promise<JwtSvidResponseMessage> {
    if (!this.#hasHeader(call.metadata)) throw header()
    const req = call.request
    if (req.audience.length === 0)
      throw { code: status.INVALID_ARGUMENT, details: 'audience must be specified' }
    let requested: SpiffeId | undefined
    if (req.spiffeId !== '') {
      requested = SpiffeId.tryParse(req.spiffeId)
      if (!requested) throw { code: status.INVALID_ARGUMENT, details: 'invalid requested SPIFFE ID' }
    }
    const identities = (await this.#identitiesOf(s, 'FetchJWTSVID', call.getPeer()))
      .map((i) => ({ id: this.#id(i, s.trustDomain), hint: i.hint ?? '' }))
      .filter((i) => !requested || i.id.equals(requested))
    if (identities.length === 0) throw NO_IDENTITY
    const svids = []
    for (const i of identities) {
      const token = await this.#issuerOf(i.id).mintJwtSvid({
        subject: i.id,
        audience: req.audience.length === 1 ? req.audience[0]! : [...req.audience],
        ttlSeconds: this.#jwtSvidTtlSeconds,
      })
      svids.push({ spiffeId: i.id.toString(), svid: token, hint: i.hint })
    }
    return { svids }
  }

  async #validateJwtSvid(
    s: SocketState,
    call: ServerUnaryCall<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage>,
  ): Promise<ValidateJwtSvidResponseMessage> {
    if (!this.#hasHeader(call.metadata)) throw header()
    const { audience, svid } = call.request
    if (audience === '') throw { code: status.INVALID_ARGUMENT, details: 'audience must be specified' }
    if (svid === '') throw { code: status.INVALID_ARGUMENT, details: 'svid must be specified' }
    const has = (await this.#identitiesOf(s, 'ValidateJWTSVID', call.getPeer())).length > 0
    const bundles = new BundleSet([this.#jwtBundleOf(s.trustDomain.name)])
    if (has) for (const td of this.#federatedOf(s)) bundles.add(this.#jwtBundleOf(td))
    let verified: ReturnType<typeof verifyJwtSvid>
    try {
      verified = verifyJwtSvid(svid, bundles, { audience })
    } catch (err) {
      // SPIRE answers a failed validation with InvalidArgument carrying the reason.
      throw {
        code: status.INVALID_ARGUMENT,
        details: err instanceof Error ? err.message : 'invalid JWT-SVID',
      }
    }
    let claims: Record<string, unknown> = { ...verified.claims }
    if (!verified.id.memberOf(s.trustDomain)) {
      // As SPIRE (without allowed_foreign_jwt_claims): only sub, exp and aud of a foreign token.
      claims = Object.fromEntries(
        Object.entries(claims).filter(([k]) => k === 'sub' || k === 'exp' || k === 'aud'),
      )
    }
    // As SPIRE: `aud` is always returned as a list, even when the token has a single string.
    if (typeof claims.aud === 'string') claims = { ...claims, aud: [claims.aud] }
    return { spiffeId: verified.id.toString(), claims }
  }
}

/**
 * The sockets the options configure, the first one from the top-level `socketPath`/`tcp`/`identities`;
 * `needsTempSocket`: the first socket must be created in a temp dir (none configured, or identities
 * given without a socket).
 */
function configuredSockets(options: DevAgentOptions): {
  sockets: DevAgentSocket[]
  needsTempSocket: boolean
} {
  const first: DevAgentSocket = {
    ...(options.socketPath !== undefined ? { socketPath: options.socketPath } : {}),
    ...(options.tcp !== undefined ? { tcp: options.tcp } : {}),
    ...(options.identities !== undefined ? { identities: options.identities } : {}),
  }
  const hasFirst = first.socketPath !== undefined || first.tcp !== undefined
  const sockets = [...(hasFirst ? [first] : []), ...(options.sockets ?? [])]
  const needsTempSocket = sockets.length === 0 || (!hasFirst && options.identities !== undefined)
  if (needsTempSocket) sockets.unshift(first)
  return { sockets, needsTempSocket }
}

function parseTrustDomain(value: string | TrustDomain, what: string): TrustDomain {
  if (value instanceof TrustDomain) return value
  const td = typeof value === 'string' ? TrustDomain.tryParse(value) : undefined
  if (!td)
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `DevAgent: ${what} ${JSON.stringify(value)} is not a trust domain`,
    )
  return td
}

function socketTrustDomain(s: DevAgentSocket, agent: TrustDomain): TrustDomain {
  return s.trustDomain === undefined ? agent : parseTrustDomain(s.trustDomain, 'socket trust domain')
}

function federatesWithOf(s: DevAgentSocket, agent: TrustDomain): string[] {
  if (s.federatesWith === undefined) return [agent.name]
  if (!Array.isArray(s.federatesWith)) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'DevAgent: federatesWith must be a list of trust domains')
  }
  return s.federatesWith.map((td) => parseTrustDomain(td, 'federatesWith').name)
}

/** What identifies a socket across a {@link DevAgent.reconfigure}: its name, address and trust domain. */
function socketShape(s: DevAgentSocket, trustDomain: TrustDomain): string {
  const tcp = s.tcp === undefined ? undefined : { host: s.tcp.host ?? '127.0.0.1', port: s.tcp.port ?? 0 }
  return JSON.stringify({ name: s.name, socketPath: s.socketPath, tcp, trustDomain: trustDomain.name })
}

function header(): GrpcError {
  return { code: status.INVALID_ARGUMENT, details: 'security header missing from request' }
}

function isGrpcError(e: unknown): e is GrpcError {
  return typeof e === 'object' && e !== null && typeof (e as GrpcError).code === 'number'
}

function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path)
  } catch {
    // best effort
  }
}

function checkOptions(o: DevAgentOptions): void {
  const bad = (why: string): never => {
    throw new OptionsError('ERR_OPTIONS_INVALID', `DevAgent: ${why}`)
  }
  if (typeof o !== 'object' || o === null) bad('options must be an object')
  if (o.socketPath !== undefined && o.tcp !== undefined) bad('set socketPath or tcp, not both')
  const ttl = o.svidTtlSeconds ?? 60
  if (!Number.isFinite(ttl) || ttl < 2) bad('svidTtlSeconds must be a number >= 2')
  const jttl = o.jwtSvidTtlSeconds ?? 300
  if (!Number.isFinite(jttl) || jttl < 1) bad('jwtSvidTtlSeconds must be a number >= 1')
  for (const s of [o, ...(o.sockets ?? [])]) {
    if (s.socketPath !== undefined && (typeof s.socketPath !== 'string' || !s.socketPath.startsWith('/'))) {
      bad('socket paths must be absolute')
    }
    if (s.tcp !== undefined) {
      const host = s.tcp.host ?? '127.0.0.1'
      if (!/^(127\.\d+\.\d+\.\d+|::1)$/.test(host)) bad(`tcp host ${host} is not a loopback IP address`)
    }
  }
  for (const s of o.sockets ?? []) {
    if ((s.socketPath === undefined) === (s.tcp === undefined))
      bad('every socket needs exactly one of socketPath and tcp')
  }
  if (o.attest !== undefined && typeof o.attest !== 'function') bad('attest must be a function')
}
