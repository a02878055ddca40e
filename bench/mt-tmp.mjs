import http from 'node:http'
import tls from 'node:tls'
import { credentialsFromNodeRequest } from '@svidkit/core/adapter'
import { createCallerVerifier } from '@svidkit/core/caller'
import { createFixture, PATH } from './http/fixture.mjs'
import { mtlsServerConfig, svidkitOptions } from './http/servers/common.mjs'

const fixture = await createFixture(
  new URL('./results/tmp/adapter-micro-fixture.json', import.meta.url).pathname,
)
const mtls = mtlsServerConfig(fixture)
const server = mtls.attach(tls.createServer({ ...mtls.serverOptions }))
const accepted = new Promise((r) => server.once('secureConnection', r))
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const client = tls.connect({
  port: server.address().port,
  host: '127.0.0.1',
  ca: fixture.caPem,
  cert: fixture.client.cert,
  key: fixture.client.key,
  checkServerIdentity: () => undefined,
})
const socket = await accepted
const v = createCallerVerifier(svidkitOptions('svidkit-mtls', fixture))
const m = new http.IncomingMessage(socket)
m.method = 'GET'
m.url = PATH
m.rawHeaders = []
const creds = credentialsFromNodeRequest(v, m)
const rows = {
  creds: () => credentialsFromNodeRequest(v, m),
  verify: () => v.verifyCaller(creds),
  both: () => v.verifyCaller(credentialsFromNodeRequest(v, m)),
}
if (!rows.both().caller) throw new Error('no caller')
const N = 2e6
for (let round = 0; round < 3; round++)
  for (const [k, f] of Object.entries(rows)) {
    for (let i = 0; i < 1e5; i++) f()
    const t = process.cpuUsage()
    for (let i = 0; i < N; i++) f()
    const u = process.cpuUsage(t)
    console.log(k, (((u.user + u.system) * 1000) / N).toFixed(0), 'ns')
  }
client.destroy()
server.close()
