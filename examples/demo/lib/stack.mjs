// Starting the demo's agent and services as child processes.
import { copyFileSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { startProcess, withTimeout } from './processes.mjs'

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url))

/** Lines of a stream, one callback each. */
function eachLine(stream, onLine) {
  let rest = ''
  stream.on('data', (chunk) => {
    rest += chunk.toString('utf8')
    let i = rest.indexOf('\n')
    while (i !== -1) {
      onLine(rest.slice(0, i))
      rest = rest.slice(i + 1)
      i = rest.indexOf('\n')
    }
  })
}

/** Resolves with the first line matching `pattern`, rejects if the process exits first. */
function waitForLine(proc, stream, pattern) {
  return new Promise((resolvePromise, reject) => {
    eachLine(stream, (line) => {
      if (pattern.test(line)) resolvePromise(line)
    })
    proc.exited.then(({ code, signal }) =>
      reject(new Error(`${proc.name} exited (${signal ?? code}) before it was ready:\n${proc.output()}`)),
    )
  })
}

/**
 * Runs the real `svidkit agent --config agent.yaml` (the @svidkit/cli bin) on a copy of agent.yaml in
 * `dir`, so its relative socket paths land there. Resolves once it serves every socket, with each
 * socket's Workload API address and SPIFFE ID by name.
 */
export async function startAgent(dir, log) {
  const config = join(dir, 'agent.yaml')
  copyFileSync(join(DEMO_DIR, 'agent.yaml'), config)
  const doc = parseYaml(readFileSync(config, 'utf8'))
  const workloads = new Map(
    doc.sockets.map((s) => [
      s.name,
      {
        address: `unix://${resolve(dir, s.socketPath)}`,
        id: `spiffe://${doc.trustDomain}${s.identities[0]}`,
      },
    ]),
  )
  const cliPackage = fileURLToPath(import.meta.resolve('@svidkit/cli/package.json'))
  const bin = join(dirname(cliPackage), JSON.parse(readFileSync(cliPackage, 'utf8')).bin.svidkit)
  const args = [bin, 'agent', '--config', config]
  log(`$ svidkit agent --config ${config}`)
  const agent = startProcess('svidkit agent', process.execPath, args)
  eachLine(agent.child.stdout, (line) => log(line))
  await withTimeout(
    waitForLine(agent, agent.child.stdout, /SPIFFE_ENDPOINT_SOCKET=/),
    15_000,
    'svidkit agent did not start within 15 s',
  )
  return { agent, workloads, trustDomain: doc.trustDomain }
}

/**
 * Starts `services/<name>.mjs` with SPIFFE_ENDPOINT_SOCKET set to its own socket. The service talks
 * back over an IPC channel: `ready` (its URL and SPIFFE ID), `audit` (one per decision) and `rotated`
 * (a new X.509-SVID). Resolves once it is ready.
 */
export async function startService(name, address, handlers) {
  const proc = startProcess(name, process.execPath, [join(DEMO_DIR, 'services', `${name}.mjs`)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: address, PORT: '0' },
  })
  const service = { name, proc, url: undefined, id: undefined, serial: undefined, events: [] }
  const ready = new Promise((resolvePromise, reject) => {
    proc.child.on('message', (m) => {
      if (m?.type === 'ready') {
        service.url = m.url
        service.id = m.id
        resolvePromise(service)
      } else if (m?.type === 'audit') {
        service.events.push(m.event)
        handlers.onAudit?.(service, m.event)
      } else if (m?.type === 'rotated') {
        service.serial = m.serial
        handlers.onRotated?.(service, m)
      }
    })
    proc.exited.then(({ code, signal }) =>
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${proc.output()}`)),
    )
  })
  eachLine(proc.child.stderr, (line) => handlers.onStderr?.(service, line))
  return withTimeout(ready, 15_000, `${name} did not start within 15 s:\n${proc.output()}`)
}
