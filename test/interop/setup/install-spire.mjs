// Installs spire-server and spire-agent from the Go module proxy into a cache directory reused between
// runs, and builds the go-spiffe peer. Skips whatever is already there.
//
//   node test/interop/setup/install-spire.mjs            # prints the bin directory
//
// Cache: $SVIDKIT_CACHE (default ~/.cache/svidkit)/spire-<version>/bin.
// The plain `go install …@v1.15.3` is tried first. Some Go module proxies refuse the source of one
// SPIRE server dependency (github.com/Keyfactor/ejbca-go-client-sdk v1.1.0, used only by the optional
// EJBCA UpstreamAuthority plugin). When that happens the server is built from the same SPIRE module
// in a throwaway build module that pins that one dependency to v1.0.2; nothing of SPIRE is copied or
// committed, and the binaries are the same SPIRE v1.15.3 code.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SPIRE_VERSION = 'v1.15.3'
const here = dirname(fileURLToPath(import.meta.url))
const cache = process.env.SVIDKIT_CACHE ?? join(homedir(), '.cache', 'svidkit')
export const spireBin = join(cache, `spire-${SPIRE_VERSION}`, 'bin')
export const goPeerBin = join(here, '..', 'go', 'bin', 'spiffe-peer')

function go(args, options = {}) {
  return execFileSync('go', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options })
}

export function hasGo() {
  try {
    go(['version'])
    return true
  } catch {
    return false
  }
}

function installOne(cmd) {
  const target = join(spireBin, cmd)
  if (existsSync(target)) return
  mkdirSync(spireBin, { recursive: true })
  const env = { ...process.env, GOBIN: spireBin, GOFLAGS: '-buildvcs=false' }
  process.stderr.write(
    `interop: installing ${cmd} ${SPIRE_VERSION} with go install (first run only, several minutes)…\n`,
  )
  try {
    go(['install', `github.com/spiffe/spire/cmd/${cmd}@${SPIRE_VERSION}`], { env })
    return
  } catch (err) {
    process.stderr.write(
      `interop: go install ${cmd} failed (${String(err.stderr ?? err)
        .trim()
        .split('\n')
        .pop()}); building from a pinned build module\n`,
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-spire-build-'))
  try {
    writeFileSync(
      join(dir, 'go.mod'),
      `module spirebuild\n\ngo 1.26\n\nrequire github.com/spiffe/spire ${SPIRE_VERSION}\n\n` +
        'replace github.com/Keyfactor/ejbca-go-client-sdk => github.com/Keyfactor/ejbca-go-client-sdk v1.0.2\n',
    )
    writeFileSync(
      join(dir, 'tools.go'),
      `//go:build tools\n\npackage tools\n\nimport _ "github.com/spiffe/spire/cmd/${cmd}"\n`,
    )
    go(['mod', 'tidy'], { cwd: dir, env })
    go(['build', '-o', target, `github.com/spiffe/spire/cmd/${cmd}`], { cwd: dir, env })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Ensures SPIRE and the go-spiffe peer are built; returns their paths. */
export function installInteropBinaries() {
  installOne('spire-server')
  installOne('spire-agent')
  process.stderr.write('interop: building the go-spiffe peer…\n')
  go(['build', '-o', goPeerBin, '.'], {
    cwd: join(here, '..', 'go'),
    env: { ...process.env, GOFLAGS: '-buildvcs=false' },
  })
  return {
    spireServer: join(spireBin, 'spire-server'),
    spireAgent: join(spireBin, 'spire-agent'),
    goPeer: goPeerBin,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!hasGo()) {
    console.error('interop: no Go toolchain found')
    process.exit(1)
  }
  console.log(JSON.stringify(installInteropBinaries()))
}
