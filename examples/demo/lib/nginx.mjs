// nginx as the edge proxy in front of the orders API:
// - callers connect to nginx with mTLS (their X.509-SVID as client certificate; nginx checks the chain
//   against the trust domain's bundle), and nginx presents its own X.509-SVID to them;
// - nginx connects to orders with mTLS too, presenting its SVID, from 127.0.0.2 (`proxy_bind`), and
//   forwards the caller's verified leaf as `ssl-client-cert: $ssl_client_escaped_cert`;
// - nginx reads certificates from files, so its SVID, key and bundle are written to files from an
//   X509Source on its own socket and rewritten at every rotation, followed by a reload (SIGHUP): what
//   spiffe-helper does for nginx next to a SPIRE agent.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { X509Source } from '@svidkit/core/workload-api'
// The proxy tests' helper: finds nginx, or installs it with apt-get (as root or with password-less sudo).
import { ensureProxies } from '../../../test/proxies/setup/ensure-proxies.mjs'
import { onTeardown, startProcess, withTimeout } from './processes.mjs'

/** nginx's path, or `{ skip }` with the reason it is missing. Throws in CI, where nginx must be there. */
export function findNginx() {
  const { paths, skipReason } = ensureProxies(['nginx'], { purpose: 'for the demo calls through nginx' })
  return skipReason ? { skip: skipReason } : { path: paths.nginx }
}

/** A port that was free on 127.0.0.1 a moment ago (nginx cannot listen on port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Writes a file atomically (nginx may be reading the old one). */
function writeAtomic(path, text, mode = 0o600) {
  writeFileSync(`${path}.tmp`, text, { mode })
  renameSync(`${path}.tmp`, path)
}

/** nginx's SVID, key and trust bundle, as PEM files. */
function writeSvidFiles(dir, source) {
  const svid = source.getX509Svid()
  writeAtomic(join(dir, 'svid.pem'), svid.certificates.map((c) => c.toString()).join(''))
  writeAtomic(join(dir, 'svid.key'), svid.privateKey.export({ format: 'pem', type: 'pkcs8' }))
  writeAtomic(join(dir, 'bundle.pem'), source.getX509BundleForTrustDomain(svid.id.trustDomain).toPem())
  return svid
}

function nginxConfig({ dir, port, upstream, sourceAddress }) {
  const tmp = join(dir, 'tmp')
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(tmp, d), { recursive: true })
  // As root, nginx would run its workers as `nobody`, who cannot enter the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  return `# The svidkit demo's edge proxy in front of the orders API (written by examples/demo/lib/nginx.mjs).
${user}worker_processes 1;
error_log stderr notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(tmp, 'body')};
  proxy_temp_path ${join(tmp, 'proxy')};
  fastcgi_temp_path ${join(tmp, 'fastcgi')};
  uwsgi_temp_path ${join(tmp, 'uwsgi')};
  scgi_temp_path ${join(tmp, 'scgi')};

  server {
    listen 127.0.0.1:${port} ssl;
    # nginx's own X.509-SVID (spiffe://demo.svidkit.dev/tenant/acme/ns/edge/sa/nginx).
    ssl_certificate ${join(dir, 'svid.pem')};
    ssl_certificate_key ${join(dir, 'svid.key')};
    # Callers must present an X.509-SVID issued by the trust domain's CA. nginx checks the chain only;
    # the orders service verifies the forwarded certificate as an X.509-SVID again.
    ssl_verify_client on;
    ssl_client_certificate ${join(dir, 'bundle.pem')};
    ssl_verify_depth 2;

    location / {
      proxy_pass https://127.0.0.1:${upstream};
      # The address the service trusts the forwarded header from.
      proxy_bind ${sourceAddress};
      # mTLS to the service with nginx's SVID: the service also checks it is nginx.
      proxy_ssl_certificate ${join(dir, 'svid.pem')};
      proxy_ssl_certificate_key ${join(dir, 'svid.key')};
      # nginx can only match an upstream certificate against a DNS name, and SVIDs carry a SPIFFE ID
      # (a URI SAN), so it cannot authenticate the service here; see the README.
      proxy_ssl_verify off;
      # Always set (a client-sent header of that name is replaced): the caller's verified leaf, as
      # percent-encoded PEM. nginx has no way to write an Envoy XFCC header (no URI field).
      proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
    }
  }
}
`
}

/**
 * Starts nginx in front of `upstreamPort`, with the SVID of the Workload API socket `address`.
 * Resolves once it listens, with its URL, SPIFFE ID and current SVID serial number. Its SVID files
 * follow every rotation: rewritten, then nginx reloads them (SIGHUP) and `onReloaded(serial)` is called.
 */
export async function startNginx({ nginx, dir, address, upstreamPort, sourceAddress, onReloaded }) {
  mkdirSync(dir, { recursive: true })
  const source = await X509Source.create({ address, timeoutMs: 10_000 })
  onTeardown(() => source.close())
  let svid = writeSvidFiles(dir, source)
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, nginxConfig({ dir, port, upstream: upstreamPort, sourceAddress }))
  const args = ['-p', dir, '-c', conf, '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`]
  const proc = startProcess('nginx', nginx, args)
  const listening = (async () => {
    for (;;) {
      if (proc.exitInfo) throw new Error(`nginx exited before listening:\n${proc.output()}`)
      if (await canConnect(port)) return
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  await withTimeout(
    listening,
    15_000,
    `nginx was not listening on port ${port} after 15 s:\n${proc.output()}`,
  )
  const nginxState = {
    url: `https://127.0.0.1:${port}`,
    id: svid.id.toString(),
    serial: serialOf(svid),
    proc,
  }
  // nginx logs (at notice level, to stderr) when an old worker starts shutting down after a reload.
  let oldWorkersStopped = 0
  proc.child.stderr.on('data', (chunk) => {
    oldWorkersStopped += chunk.toString('utf8').split('gracefully shutting down').length - 1
  })
  let reloading = Promise.resolve()
  const sync = () => {
    let next
    try {
      next = source.getX509Svid()
    } catch {
      return // no usable SVID right now: nginx keeps the files it has
    }
    if (serialOf(next) === serialOf(svid) || proc.exitInfo) return
    svid = writeSvidFiles(dir, source)
    const serial = serialOf(svid)
    reloading = reloading.then(async () => {
      // After a SIGHUP the master starts new workers, then tells the old ones to finish gracefully.
      const before = oldWorkersStopped
      proc.child.kill('SIGHUP')
      const deadline = Date.now() + 3000
      while (oldWorkersStopped === before && Date.now() < deadline && !proc.exitInfo) {
        await new Promise((r) => setTimeout(r, 20))
      }
      nginxState.serial = serial
      onReloaded?.(serial)
    })
  }
  source.on('update', sync)
  sync() // in case the SVID rotated while nginx was starting
  return nginxState
}

function serialOf(svid) {
  return svid.certificates[0].serialNumber
}
