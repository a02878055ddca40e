import { resolve } from 'node:path'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { DevAgent, type DevAgentOptions, loadDevAgentConfig } from '@svidkit/testing'
import type { ExitCode } from '../cli-result.js'
import { rejected } from '../cli-result.js'
import { usage } from '../inputs.js'
import { toJsonText } from '../json-text.js'
import type { CliIo } from '../main.js'

/** Options of `svidkit agent`. */
export interface AgentOptions {
  config?: string
  socket?: string
  trustDomain?: string
  id?: string[]
  svidTtl?: string
  json?: boolean
}

/**
 * `svidkit agent`: a development Workload API server (the dev agent of @svidkit/testing) from an
 * in-memory CA. Runs until SIGINT/SIGTERM. Never for production: use SPIRE.
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
      identities: s.identities.map((i) =>
        i.spiffeId.startsWith('/') ? SpiffeId.fromPath(agent.trustDomain, i.spiffeId).toString() : i.spiffeId,
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
    await new Promise<void>((done) => {
      const stop = () => done()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await agent.close()
    return 0
  }
}
