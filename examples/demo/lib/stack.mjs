// Starting the demo's agent and services as child processes.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
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
 * socket's Workload API address and SPIFFE ID by name, and `agent.reload(edit)`: rewrites the copy with
 * `edit(document)` and sends the agent SIGHUP, which makes it read the file again; resolves when the
 * agent says it applied it.
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
        id: `spiffe://${s.trustDomain ?? doc.trustDomain}${s.identities[0]}`,
      },
    ]),
  )
  const cliPackage = fileURLToPath(import.meta.resolve('@svidkit/cli/package.json'))
  const bin = join(dirname(cliPackage), JSON.parse(readFileSync(cliPackage, 'utf8')).bin.svidkit)
  const args = [bin, 'agent', '--config', config]
  log(`$ svidkit agent --config ${config}`)
  const proc = startProcess('svidkit agent', process.execPath, args)
  const lines = []
  eachLine(proc.child.stdout, (line) => {
    lines.push(line)
    log(line)
  })
  eachLine(proc.child.stderr, (line) => log(line))
  await withTimeout(
    waitForLine(proc, proc.child.stdout, /SPIFFE_ENDPOINT_SOCKET=/),
    15_000,
    'svidkit agent did not start within 15 s',
  )
  const agent = {
    proc,
    async reload(edit) {
      writeFileSync(config, stringifyYaml(edit(parseYaml(readFileSync(config, 'utf8')))))
      const seen = lines.length
      log(`$ kill -HUP ${proc.child.pid}`)
      proc.child.kill('SIGHUP')
      const applied = () => lines.slice(seen).some((line) => /^reloaded /.test(line))
      const deadline = Date.now() + 5_000
      while (!applied() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      if (!applied()) throw new Error(`svidkit agent did not reload its configuration:\n${proc.output()}`)
    },
  }
  return { agent, workloads, trustDomain: doc.trustDomain }
}

/**
 * Compiles services/payments.ts (the NestJS service; decorators need TypeScript) to
 * services/payments.js with the demo's tsconfig.json, incrementally: a no-op when nothing changed.
 */
export function compileTypeScriptServices() {
  const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'))
  execFileSync(process.execPath, [tsc, '-b', join(DEMO_DIR, 'tsconfig.json')], {
    cwd: DEMO_DIR,
    stdio: 'inherit',
  })
}

/**
 * Starts a service (`services/<name>.mjs`, or `.js` when compiled from TypeScript) with
 * SPIFFE_ENDPOINT_SOCKET set to its own socket, plus `env`; `nodeArgs` go before the script (`--import`).
 * The service talks back over an IPC channel: `ready` (its URL and SPIFFE ID), `audit` (one per
 * decision), `refused` (a peer refused in the TLS handshake), `rotated` (a new X.509-SVID) and
 * `bundles` (the trust domains it has bundles for changed). Resolves once it is ready.
 */
export async function startService(name, address, handlers, { env = {}, nodeArgs = [] } = {}) {
  const script = ['mjs', 'js'].map((ext) => join(DEMO_DIR, 'services', `${name}.${ext}`)).find(existsSync)
  const proc = startProcess(name, process.execPath, [...nodeArgs, script], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env, SPIFFE_ENDPOINT_SOCKET: address, PORT: '0' },
  })
  const service = { name, proc, url: undefined, id: undefined, serial: undefined, trustDomains: undefined }
  const ready = new Promise((resolvePromise, reject) => {
    proc.child.on('message', (m) => {
      if (m?.type === 'ready') {
        service.url = m.url
        service.id = m.id
        service.serial = m.serial
        resolvePromise(service)
      } else handlers.onMessage?.(service, m)
    })
    proc.exited.then(({ code, signal }) =>
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${proc.output()}`)),
    )
  })
  eachLine(proc.child.stdout, (line) => handlers.onStdout?.(service, line))
  eachLine(proc.child.stderr, (line) => handlers.onStderr?.(service, line))
  return withTimeout(ready, 20_000, `${name} did not start within 20 s:\n${proc.output()}`)
}
