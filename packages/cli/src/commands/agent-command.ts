import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SvidkitError } from '@svidkit/core/errors'
import { SpiffeId, TrustDomain } from '@svidkit/core/spiffe-id'
import {
  DevAgent,
  type DevAgentOptions,
  loadDevAgentConfig,
  TestCA,
  type TestCAState,
} from '@svidkit/testing'
import type { ExitCode } from '../cli-result.js'
import { rejected } from '../cli-result.js'
import { readInput, usage } from '../inputs.js'
import { toJsonText } from '../json-text.js'
import type { CliIo } from '../main.js'
import { makeOutputDir, writeOutputFile } from '../outputs.js'

/** Options of `svidkit agent`. */
export interface AgentOptions {
  config?: string
  socket?: string
  trustDomain?: string
  id?: string[]
  svidTtl?: string
  caDir?: string
  json?: boolean
}

/**
 * The agent's CA, kept in `<dir>/ca.json` (mode 0600) so that a restarted agent serves the same trust
 * bundle, as a restarted SPIRE agent does: created on first use, reused afterwards.
 */
async function persistentCa(dir: string, trustDomain: string | undefined): Promise<TestCA> {
  const file = join(dir, 'ca.json')
  if (existsSync(file)) {
    let state: TestCAState
    try {
      state = JSON.parse(readInput(file, 'CA state file').toString('utf8')) as TestCAState
    } catch (cause) {
      if (cause instanceof SvidkitError) throw cause
      throw new SvidkitError('ERR_CLI_INPUT', `CA state file "${file}": not JSON`, { cause })
    }
    const ca = await TestCA.fromState(state)
    if (trustDomain !== undefined && !ca.trustDomain.equals(TrustDomain.parse(trustDomain))) {
      throw usage(`--ca-dir holds a CA for ${ca.trustDomain}, not for ${trustDomain}`)
    }
    return ca
  }
  const ca = await TestCA.create({ trustDomain: trustDomain ?? 'example.org' })
  makeOutputDir(dir)
  writeOutputFile(file, `${JSON.stringify(ca.toState(), null, 2)}\n`, 0o600)
  return ca
}

/**
 * `svidkit agent`: a development Workload API server (the dev agent of @svidkit/testing) from an
 * in-memory CA, or with `--ca-dir` a CA kept on disk across restarts. Runs until SIGINT/SIGTERM; with
 * `--config`, SIGHUP re-reads the file and applies its identities and federation without a restart.
 * Never for production: use SPIRE.
 */
export function agentCommand(o: AgentOptions, io: CliIo): () => Promise<ExitCode> {
  return async () => {
    let agent: DevAgent
    try {
      let options: DevAgentOptions
      if (o.config !== undefined) {
        if (
          o.socket !== undefined ||
          o.trustDomain !== undefined ||
          o.id !== undefined ||
          o.svidTtl !== undefined
        ) {
          throw usage('--config cannot be combined with --socket, --trust-domain, --id or --svid-ttl')
        }
        options = await loadDevAgentConfig(o.config)
        if (o.caDir !== undefined) {
          const td = options.ca?.trustDomain.name ?? options.trustDomain?.toString()
          options = { ...options, ca: await persistentCa(resolve(o.caDir), td) }
        }
      } else {
        const ttl = o.svidTtl === undefined ? undefined : Number(o.svidTtl)
        if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0))
          throw usage('--svid-ttl must be a positive integer (seconds)')
        if (o.socket === undefined) throw usage('give --socket <path> (or --config <file>)')
        options = {
          socketPath: resolve(o.socket),
          ...(o.trustDomain === undefined ? {} : { trustDomain: o.trustDomain }),
          ...(o.id === undefined ? {} : { identities: o.id.map((spiffeId) => ({ spiffeId })) }),
          ...(ttl === undefined ? {} : { svidTtlSeconds: ttl }),
          ...(o.caDir === undefined ? {} : { ca: await persistentCa(resolve(o.caDir), o.trustDomain) }),
        }
      }
      agent = await DevAgent.start(options)
    } catch (err) {
      const r = rejected(err)
      if (o.json) io.stdout(`${toJsonText(r.json)}\n`)
      else io.stderr(`${r.human}\n`)
      return r.exitCode
    }
    const sockets = agent.sockets.map((s) => ({
      ...(s.name === undefined ? {} : { name: s.name }),
      address: s.address,
      // A socket of another trust domain: a stand-in for a workload of a second SPIRE deployment.
      ...(s.trustDomain.equals(agent.trustDomain) ? {} : { trustDomain: s.trustDomain.name }),
      identities: s.identities.map((i) =>
        i.spiffeId.startsWith('/') ? SpiffeId.fromPath(s.trustDomain, i.spiffeId).toString() : i.spiffeId,
      ),
    }))
    const info = { ok: true, address: agent.address, trustDomain: agent.trustDomain.name, sockets }
    if (o.json) io.stdout(`${toJsonText(info)}\n`)
    else {
      io.stdout(`svidkit dev agent for ${agent.trustDomain} (development only; use SPIRE in production)\n`)
      io.stdout(`  export SPIFFE_ENDPOINT_SOCKET=${agent.address}\n`)
      if (sockets.length > 1) {
        for (const s of sockets)
          io.stdout(`  socket ${s.name ?? ''} ${s.address}: ${s.identities.join(', ')}\n`)
      }
    }
    // With --config, SIGHUP reads the file again and applies it (identities, federation) without a
    // restart; a configuration that is invalid, or changes what needs a restart, is logged and ignored.
    let reloading = Promise.resolve()
    const hangup = (): void => {
      reloading = reloading.then(() => reload(agent, o, io))
    }
    if (o.config !== undefined) process.on('SIGHUP', hangup)
    await new Promise<void>((done) => {
      const stop = () => done()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    process.off('SIGHUP', hangup)
    await reloading
    await agent.close()
    return 0
  }
}

/** Re-reads `--config` and applies it to the running agent ({@link DevAgent.reconfigure}); logs the outcome. */
async function reload(agent: DevAgent, o: AgentOptions, io: CliIo): Promise<void> {
  const file = o.config!
  try {
    let options = await loadDevAgentConfig(file)
    // --ca-dir: the CA on disk stays; a config without trustDomain means the CA's.
    if (o.caDir !== undefined && options.trustDomain === undefined) {
      options = { ...options, trustDomain: agent.trustDomain }
    }
    const changed = await agent.reconfigure(options)
    const federated = agent.federatedTrustDomains.map((td) => td.name)
    if (o.json) io.stdout(`${toJsonText({ ok: true, reloaded: file, ...changed, federation: federated })}\n`)
    else {
      const list = (names: readonly string[]) => (names.length === 0 ? 'none' : names.join(', '))
      io.stdout(
        `reloaded ${file}: federation ${list(federated)} (added: ${list(changed.federationAdded)}, removed: ${list(changed.federationRemoved)}); sockets changed: ${list(changed.socketsChanged)}\n`,
      )
    }
  } catch (err) {
    const r = rejected(err)
    if (o.json) io.stdout(`${toJsonText({ ...r.json, reloaded: false })}\n`)
    else io.stderr(`reload of ${file} ${r.human}; the running configuration is kept\n`)
  }
}
