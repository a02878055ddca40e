// A real SPIRE server and agent (v1.15.3) on loopback and temp dirs, for the interop suite.
//
// Server: sqlite3 datastore, in-memory CA keys, join_token node attestation, a short X.509-SVID TTL
// (so the agent rotates workload SVIDs within a test: SPIRE backdates notBefore by 10 s and the agent
// renews once less than half the lifetime is left, ±10 %), optionally an https_spiffe bundle endpoint
// and static federation relationships.
// Agent: join_token attestation, unix workload attestation, a 1 s sync interval (entries reach it in a
// few seconds), and KeyManager "disk" so that a killed agent restarts with its own SVID: a join token
// is single-use, so an agent that lost its key (KeyManager "memory") could never attest again.
//
// Every process is stopped and every temp dir removed by `stop()`, and also when the test process exits.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { binaries, freePort, waitFor } from './env.js'
import { type ManagedProcess, removeTempDir, startProcess, tempDir } from './processes.js'

const hcl = (s: string): string => JSON.stringify(s)

/** Runs a SPIRE CLI command; resolves with stdout, rejects with stderr in the message. */
export function runCli(
  bin: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${bin.split('/').pop()} ${args[0]} ${args[1] ?? ''} failed: ${stderr || err.message}`),
        )
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** A static federation relationship (https_spiffe profile). */
export interface FederationRelationship {
  trustDomain: string
  url: string
  endpointSpiffeId: string
}

/** Options for {@link SpireServer.start}. */
export interface SpireServerOptions {
  /** A short label for log files and temp dirs (`a`, `b`). */
  name: string
  trustDomain: string
  /** `default_x509_svid_ttl`. Default `30s`. */
  x509SvidTtl?: string
  /** `default_jwt_svid_ttl`. Default `5m`. */
  jwtSvidTtl?: string
  /** `ca_ttl`. Default `24h` (no CA rotation during the suite). */
  caTtl?: string
  /** Serve this trust domain's bundle on an https_spiffe bundle endpoint on this port. */
  bundleEndpointPort?: number
  /** `federates_with` relationships. */
  federatesWith?: readonly FederationRelationship[]
}

/** Options for {@link SpireServer.createEntry}. */
export interface EntryOptions {
  parentId: string
  spiffeId: string
  selectors: readonly string[]
  federatesWith?: readonly string[]
  hint?: string
}

export class SpireServer {
  readonly name: string
  readonly trustDomain: string
  readonly dir: string
  readonly socketPath: string
  readonly port: number
  readonly bundleEndpointPort: number | undefined
  readonly #process: ManagedProcess

  private constructor(o: SpireServerOptions, dir: string, port: number, process: ManagedProcess) {
    this.name = o.name
    this.trustDomain = o.trustDomain
    this.dir = dir
    this.socketPath = join(dir, 'server.sock')
    this.port = port
    this.bundleEndpointPort = o.bundleEndpointPort
    this.#process = process
  }

  /** The trust domain's SPIFFE ID (`spiffe://<td>`). */
  get trustDomainId(): string {
    return `spiffe://${this.trustDomain}`
  }

  /** The SPIFFE ID of the server's own SVID (the bundle endpoint presents it). */
  get serverId(): string {
    return `spiffe://${this.trustDomain}/spire/server`
  }

  /** The bundle endpoint URL, when enabled. */
  get bundleEndpointUrl(): string | undefined {
    return this.bundleEndpointPort === undefined ? undefined : `https://127.0.0.1:${this.bundleEndpointPort}`
  }

  static async start(o: SpireServerOptions): Promise<SpireServer> {
    const dir = tempDir(`server-${o.name}`)
    const port = await freePort()
    const federation =
      o.bundleEndpointPort !== undefined || (o.federatesWith?.length ?? 0) > 0
        ? [
            '  federation {',
            ...(o.bundleEndpointPort !== undefined
              ? [
                  '    bundle_endpoint {',
                  `      address = ${hcl('127.0.0.1')}`,
                  `      port = ${o.bundleEndpointPort}`,
                  `      refresh_hint = ${hcl('1m')}`,
                  '      profile "https_spiffe" {}',
                  '    }',
                ]
              : []),
            ...(o.federatesWith ?? []).flatMap((f) => [
              `    federates_with ${hcl(f.trustDomain)} {`,
              `      bundle_endpoint_url = ${hcl(f.url)}`,
              '      bundle_endpoint_profile "https_spiffe" {',
              `        endpoint_spiffe_id = ${hcl(f.endpointSpiffeId)}`,
              '      }',
              '    }',
            ]),
            '  }',
          ]
        : []
    const conf = [
      'server {',
      `  bind_address = ${hcl('127.0.0.1')}`,
      `  bind_port = ${hcl(String(port))}`,
      `  socket_path = ${hcl(join(dir, 'server.sock'))}`,
      `  trust_domain = ${hcl(o.trustDomain)}`,
      `  data_dir = ${hcl(join(dir, 'data'))}`,
      `  log_level = ${hcl('DEBUG')}`,
      `  ca_ttl = ${hcl(o.caTtl ?? '24h')}`,
      `  default_x509_svid_ttl = ${hcl(o.x509SvidTtl ?? '30s')}`,
      `  default_jwt_svid_ttl = ${hcl(o.jwtSvidTtl ?? '5m')}`,
      // The agent's own SVID keeps a long TTL: only workload SVIDs should churn.
      `  agent_ttl = ${hcl('1h')}`,
      ...federation,
      '}',
      'plugins {',
      '  DataStore "sql" {',
      '    plugin_data {',
      `      database_type = ${hcl('sqlite3')}`,
      `      connection_string = ${hcl(join(dir, 'data', 'datastore.sqlite3'))}`,
      '    }',
      '  }',
      '  KeyManager "memory" {',
      '    plugin_data {}',
      '  }',
      '  NodeAttestor "join_token" {',
      '    plugin_data {}',
      '  }',
      '}',
      '',
    ].join('\n')
    const confPath = join(dir, 'server.conf')
    writeFileSync(confPath, conf)
    const proc = startProcess(`spire-server-${o.name}`, binaries.spireServer, ['run', '-config', confPath])
    const server = new SpireServer(o, dir, port, proc)
    try {
      await waitFor(
        `spire-server ${o.name} to be healthy`,
        async () => {
          if (!proc.running) throw new Error(`spire-server exited:\n${proc.tail()}`)
          await server.run(['healthcheck'])
          return true
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      )
    } catch (err) {
      await server.stop()
      throw err
    }
    return server
  }

  /** Runs `spire-server <args> -socketPath <ours>`. */
  run(args: readonly string[], input?: string): Promise<string> {
    return runCli(binaries.spireServer, [...args, '-socketPath', this.socketPath], input)
  }

  /** A new single-use join token. */
  async generateJoinToken(): Promise<string> {
    const out = JSON.parse(await this.run(['token', 'generate', '-ttl', '600', '-output', 'json'])) as {
      value: string
    }
    return out.value
  }

  /** The server's own bundle as PEM (`bundle show`). */
  bundlePem(): Promise<string> {
    return this.run(['bundle', 'show', '-format', 'pem'])
  }

  /** The server's own bundle as a SPIFFE bundle document (`bundle show -format spiffe`). */
  bundleSpiffe(): Promise<string> {
    return this.run(['bundle', 'show', '-format', 'spiffe'])
  }

  /** Sets (bootstraps) a federated trust domain's bundle (`bundle set -format spiffe`). */
  async setFederatedBundle(trustDomain: string, spiffeBundleJson: string): Promise<void> {
    await this.run(['bundle', 'set', '-format', 'spiffe', '-id', `spiffe://${trustDomain}`], spiffeBundleJson)
  }

  /** `entry create`; returns the entry ID. */
  async createEntry(e: EntryOptions): Promise<string> {
    const args = ['entry', 'create', '-output', 'json', '-parentID', e.parentId, '-spiffeID', e.spiffeId]
    for (const s of e.selectors) args.push('-selector', s)
    for (const f of e.federatesWith ?? []) args.push('-federatesWith', f)
    if (e.hint !== undefined) args.push('-hint', e.hint)
    const out = JSON.parse(await this.run(args)) as {
      results: { entry?: { id: string }; status: { code: number; message: string } }[]
    }
    const r = out.results[0]
    if (!r?.entry || r.status.code !== 0) throw new Error(`entry create failed: ${r?.status.message}`)
    return r.entry.id
  }

  /** `entry delete`. */
  async deleteEntry(id: string): Promise<void> {
    await this.run(['entry', 'delete', '-entryID', id])
  }

  /** `jwt mint`: a JWT-SVID signed by the server (any TTL, for expiry tests). */
  async mintJwtSvid(spiffeId: string, audience: readonly string[], ttl: string): Promise<string> {
    const args = ['jwt', 'mint', '-spiffeID', spiffeId, '-ttl', ttl]
    for (const a of audience) args.push('-audience', a)
    return (await this.run(args)).trim()
  }

  /** Stops the server and removes its temp dir. */
  async stop(): Promise<void> {
    await this.#process.stop()
    removeTempDir(this.dir)
  }
}

/** Options for {@link SpireAgent.start}. */
export interface SpireAgentOptions {
  /** A short label for log files and temp dirs. */
  name: string
  server: SpireServer
  /** `allow_unauthenticated_verifiers`. Default false. */
  allowUnauthenticatedVerifiers?: boolean
}

export class SpireAgent {
  readonly name: string
  readonly trustDomain: string
  readonly dir: string
  /** The agent's SPIFFE ID (the parent of workload entries). */
  readonly spiffeId: string
  readonly socketPath: string
  readonly #confPath: string
  #process: ManagedProcess | undefined
  #restarts = 0

  private constructor(name: string, trustDomain: string, dir: string, token: string, confPath: string) {
    this.name = name
    this.trustDomain = trustDomain
    this.dir = dir
    this.spiffeId = `spiffe://${trustDomain}/spire/agent/join_token/${token}`
    this.socketPath = join(dir, 'agent.sock')
    this.#confPath = confPath
  }

  /** The Workload API address (`unix:///…/agent.sock`). */
  get address(): string {
    return `unix://${this.socketPath}`
  }

  get running(): boolean {
    return this.#process?.running ?? false
  }

  static async start(o: SpireAgentOptions): Promise<SpireAgent> {
    const dir = tempDir(`agent-${o.name}`)
    const token = await o.server.generateJoinToken()
    writeFileSync(join(dir, 'bootstrap.pem'), await o.server.bundlePem())
    const conf = [
      'agent {',
      `  data_dir = ${hcl(join(dir, 'data'))}`,
      `  log_level = ${hcl('DEBUG')}`,
      `  server_address = ${hcl('127.0.0.1')}`,
      `  server_port = ${hcl(String(o.server.port))}`,
      `  socket_path = ${hcl(join(dir, 'agent.sock'))}`,
      `  trust_bundle_path = ${hcl(join(dir, 'bootstrap.pem'))}`,
      `  trust_domain = ${hcl(o.server.trustDomain)}`,
      `  join_token = ${hcl(token)}`,
      `  allow_unauthenticated_verifiers = ${o.allowUnauthenticatedVerifiers === true}`,
      '  experimental {',
      `    sync_interval = ${hcl('1s')}`,
      '  }',
      '}',
      'plugins {',
      '  KeyManager "disk" {',
      '    plugin_data {',
      `      directory = ${hcl(join(dir, 'data'))}`,
      '    }',
      '  }',
      '  NodeAttestor "join_token" {',
      '    plugin_data {}',
      '  }',
      '  WorkloadAttestor "unix" {',
      '    plugin_data {}',
      '  }',
      '}',
      '',
    ].join('\n')
    const confPath = join(dir, 'agent.conf')
    writeFileSync(confPath, conf)
    const agent = new SpireAgent(o.name, o.server.trustDomain, dir, token, confPath)
    try {
      await agent.#launch()
    } catch (err) {
      await agent.stop()
      throw err
    }
    return agent
  }

  async #launch(): Promise<void> {
    const proc = startProcess(`spire-agent-${this.name}`, binaries.spireAgent, [
      'run',
      '-config',
      this.#confPath,
    ])
    this.#process = proc
    await waitFor(
      `spire-agent ${this.name} to be healthy`,
      async () => {
        if (!proc.running) throw new Error(`spire-agent exited:\n${proc.tail()}`)
        await runCli(binaries.spireAgent, ['healthcheck', '-socketPath', this.socketPath])
        return true
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
  }

  /** Kills the agent (SIGKILL by default: no graceful stream shutdown). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.#process
    if (!proc?.running) return
    proc.child.kill(signal)
    await proc.exited
  }

  /** Starts a killed agent again with the same config and data dir (it reloads its SVID from disk). */
  async restart(): Promise<void> {
    if (this.running) throw new Error('the agent is running')
    this.#restarts++
    await this.#launch()
  }

  /** How many times {@link restart} was called. */
  get restarts(): number {
    return this.#restarts
  }

  /** The last lines of the agent log. */
  tail(lines?: number): string {
    return this.#process?.tail(lines) ?? ''
  }

  /** Stops the agent and removes its temp dir. */
  async stop(): Promise<void> {
    await this.#process?.stop()
    removeTempDir(this.dir)
  }
}
