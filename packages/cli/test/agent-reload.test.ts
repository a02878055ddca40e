// `svidkit agent --config`: sockets of other trust domains, and SIGHUP re-reading the file, on the
// built binary (a child process: signals need one) over real unix sockets.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { X509Source } from '@svidkit/core/workload-api'
import { afterEach, expect, test } from 'vitest'
import { useTempDir } from './run-cli.js'

const tempDir = useTempDir('svidkit-agent-reload-')
const bin = join(__dirname, '..', 'bin', 'svidkit.js')

const CONFIG = `
trustDomain: demo.test
svidTtlSeconds: 60
sockets:
  - name: web
    socketPath: ./web.sock
    identities: [/web]
  - name: partner
    socketPath: ./partner.sock
    trustDomain: partner.test
    identities: [/billing]
federation: [partner.test]
`

/** The agent's output, line by line, and a way to wait for a line. */
function start(args: string[]): {
  child: ChildProcessWithoutNullStreams
  lines: { out: string[]; err: string[] }
  next: (stream: 'out' | 'err', pattern: RegExp) => Promise<string>
} {
  const child = spawn(process.execPath, [bin, 'agent', ...args], { stdio: 'pipe' })
  const lines = { out: [] as string[], err: [] as string[] }
  const seen = { out: 0, err: 0 }
  for (const [name, stream] of [
    ['out', child.stdout],
    ['err', child.stderr],
  ] as const) {
    let rest = ''
    stream.on('data', (d: Buffer) => {
      rest += d.toString('utf8')
      const parts = rest.split('\n')
      rest = parts.pop()!
      lines[name].push(...parts)
    })
  }
  const next = async (stream: 'out' | 'err', pattern: RegExp): Promise<string> => {
    for (let i = 0; i < 1500; i++) {
      const found = lines[stream].slice(seen[stream]).findIndex((l) => pattern.test(l))
      if (found !== -1) {
        seen[stream] += found + 1
        return lines[stream][seen[stream] - 1]!
      }
      if (child.exitCode !== null) break
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`no line ${pattern} on std${stream}:\n${lines.out.join('\n')}\n${lines.err.join('\n')}`)
  }
  children.push(child)
  return { child, lines, next }
}

const children: ChildProcessWithoutNullStreams[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
})

const trustDomains = (source: X509Source): string[] =>
  source.bundles
    .trustDomains()
    .map((td) => td.name)
    .sort()

async function until(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10))
  return condition()
}

test('sockets of another trust domain; SIGHUP removes the federation with no restart; a bad file is ignored', async () => {
  const dir = tempDir()
  const config = join(dir, 'agent.yaml')
  writeFileSync(config, CONFIG)
  const agent = start(['--config', config])
  await agent.next('out', /SPIFFE_ENDPOINT_SOCKET=/)
  expect(await agent.next('out', /socket partner /)).toBe(
    `  socket partner unix://${join(dir, 'partner.sock')}: spiffe://partner.test/billing`,
  )
  await using web = await X509Source.create({ address: `unix://${join(dir, 'web.sock')}` })
  await using partner = await X509Source.create({ address: `unix://${join(dir, 'partner.sock')}` })
  expect(partner.getX509Svid().id.toString()).toBe('spiffe://partner.test/billing')
  expect(trustDomains(web)).toEqual(['demo.test', 'partner.test'])
  expect(trustDomains(partner)).toEqual(['demo.test', 'partner.test'])

  // The federation removed from the file, then SIGHUP: pushed on web's open stream.
  writeFileSync(config, CONFIG.replace('federation: [partner.test]', 'federation: []'))
  agent.child.kill('SIGHUP')
  expect(await agent.next('out', /^reloaded /)).toBe(
    `reloaded ${config}: federation none (added: none, removed: partner.test); sockets changed: none`,
  )
  expect(await until(() => trustDomains(web).join() === 'demo.test')).toBe(true)
  expect(trustDomains(partner)).toEqual(['demo.test', 'partner.test'])

  // Invalid YAML, then a change that needs a restart: logged, the running configuration kept.
  writeFileSync(config, 'sockets: [')
  agent.child.kill('SIGHUP')
  expect(await agent.next('err', /^reload of /)).toBe(
    `reload of ${config} rejected: options: ${config}: not valid YAML or JSON (ERR_OPTIONS_INVALID); the running configuration is kept`,
  )
  writeFileSync(config, CONFIG.replace('svidTtlSeconds: 60', 'svidTtlSeconds: 30'))
  agent.child.kill('SIGHUP')
  expect(await agent.next('err', /^reload of /)).toContain(
    'changing svidTtlSeconds needs a restart (ERR_OPTIONS_INVALID); the running configuration is kept',
  )
  expect(trustDomains(web)).toEqual(['demo.test'])

  // Back to the federation, and a new identity for web: applied.
  writeFileSync(config, CONFIG.replace('identities: [/web]', 'identities: [/web, /web-admin]'))
  agent.child.kill('SIGHUP')
  expect(await agent.next('out', /^reloaded /)).toBe(
    `reloaded ${config}: federation partner.test (added: partner.test, removed: none); sockets changed: web`,
  )
  expect(await until(() => trustDomains(web).includes('partner.test'))).toBe(true)
  expect(readFileSync(config, 'utf8')).toContain('/web-admin')
  agent.child.kill('SIGTERM')
  expect(await new Promise((r) => agent.child.once('exit', r))).toBe(0)
}, 60_000)

test('--json: the sockets with their trust domain; one JSON line per reload', async () => {
  const dir = tempDir()
  const config = join(dir, 'json.yaml')
  writeFileSync(config, CONFIG.replaceAll('./', './json-'))
  const agent = start(['--config', config, '--json'])
  const started = JSON.parse(await agent.next('out', /^\{/)) as Record<string, unknown>
  expect(started.sockets).toEqual([
    { name: 'web', address: `unix://${join(dir, 'json-web.sock')}`, identities: ['spiffe://demo.test/web'] },
    {
      name: 'partner',
      address: `unix://${join(dir, 'json-partner.sock')}`,
      trustDomain: 'partner.test',
      identities: ['spiffe://partner.test/billing'],
    },
  ])
  writeFileSync(config, 'trustDomain: other.test\n')
  agent.child.kill('SIGHUP')
  expect(JSON.parse(await agent.next('out', /^\{/))).toEqual({
    ok: false,
    code: 'ERR_OPTIONS_INVALID',
    message:
      'options: DevAgent.reconfigure: changing the trust domain (demo.test → other.test) needs a restart',
    reloaded: false,
  })
  writeFileSync(config, CONFIG.replaceAll('./', './json-').replace('[partner.test]', '[]'))
  agent.child.kill('SIGHUP')
  expect(JSON.parse(await agent.next('out', /^\{/))).toEqual({
    ok: true,
    reloaded: config,
    federationAdded: [],
    federationRemoved: ['partner.test'],
    socketsChanged: [],
    federation: [],
  })
}, 60_000)
