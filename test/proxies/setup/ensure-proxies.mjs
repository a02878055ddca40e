// Makes nginx and HAProxy available for the proxy interop tests (test/proxies), or explains why not.
//
//   node test/proxies/setup/ensure-proxies.mjs        # ensures both; prints their paths, exit 1 if missing
//
// A binary already on PATH (or in /usr/sbin, /usr/local/sbin, /sbin) is used as is. A missing one is
// installed with `apt-get install -y --no-install-recommends nginx-light haproxy` (falling back to the
// `nginx` package where `nginx-light` does not exist), as root, or through `sudo -n` when sudo needs no
// password (GitHub-hosted runners), running `apt-get update` first only when the install fails.
// During the install a temporary /usr/sbin/policy-rc.d (exit 101) keeps the packages from starting
// their system services (nginx on port 80); it is removed afterwards, and only if it was ours.
//
// When the binaries cannot be had: with CI set (anything but '', '0', 'false') ensureProxies throws, so
// the run fails; otherwise it returns a skip reason and the tests skip with that message.
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The Debian packages that provide each binary, tried in order. */
const PACKAGES = { nginx: ['nginx-light', 'nginx'], haproxy: ['haproxy'] }
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin']
const APT_TIMEOUT_MS = 10 * 60_000
const POLICY_RC_D = '/usr/sbin/policy-rc.d'

export function isCI() {
  const v = process.env.CI
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}

/** The absolute path of an executable, from PATH and the sbin directories, or undefined. */
export function findBinary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN]
  for (const dir of dirs) {
    if (dir === '') continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

function run(cmd, args, timeout = 30_000) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
  return { ok: r.status === 0 && !r.error, output: r.error ? String(r.error) : output }
}

/** How to run a command as root: [] when we are root, ['sudo', '-n'] with password-less sudo, else undefined. */
function adminPrefix() {
  if (process.getuid?.() === 0) return []
  const sudo = findBinary('sudo')
  if (sudo !== undefined && run(sudo, ['-n', 'true'], 10_000).ok) return [sudo, '-n']
  return undefined
}

function asAdmin(prefix, args, timeout) {
  const [cmd, ...rest] = [...prefix, ...args]
  return run(cmd, rest, timeout)
}

function lastLines(text, n = 3) {
  return text.split('\n').filter(Boolean).slice(-n).join(' | ')
}

/** Installs the packages for `names`; returns undefined on success or the reason it could not. */
function install(names, purpose) {
  if (process.platform !== 'linux') return `automatic installation needs Linux (this is ${process.platform})`
  const apt = findBinary('apt-get')
  if (apt === undefined) return 'apt-get is not available to install them'
  const prefix = adminPrefix()
  if (prefix === undefined) return 'installing them needs root or password-less sudo'
  const created =
    asAdmin(
      prefix,
      [
        'sh',
        '-c',
        `test -e ${POLICY_RC_D} || { printf '#!/bin/sh\\nexit 101\\n' > ${POLICY_RC_D} && chmod 755 ${POLICY_RC_D} && echo created; }`,
      ],
      10_000,
    ).output === 'created'
  try {
    let failure
    // First choice of package for every binary, then the fallbacks (nginx-light is Debian-only).
    for (let choice = 0; choice < 2; choice++) {
      const pkgs = names.map((n) => PACKAGES[n][Math.min(choice, PACKAGES[n].length - 1)])
      process.stderr.write(
        `${names.join(' and ')} not found: installing ${pkgs.join(' ')} with apt-get ${purpose}…\n`,
      )
      const args = [apt, 'install', '-y', '--no-install-recommends', ...pkgs]
      let r = asAdmin(prefix, args, APT_TIMEOUT_MS)
      if (!r.ok) {
        process.stderr.write('apt-get install failed; running apt-get update and retrying…\n')
        const u = asAdmin(prefix, [apt, 'update'], APT_TIMEOUT_MS)
        r = u.ok ? asAdmin(prefix, args, APT_TIMEOUT_MS) : u
      }
      if (r.ok) return undefined
      failure = `apt-get failed: ${lastLines(r.output)}`
      if (names.every((n) => PACKAGES[n].length === 1)) break
    }
    return failure
  } finally {
    if (created) asAdmin(prefix, ['rm', '-f', POLICY_RC_D], 10_000)
  }
}

/**
 * Ensures the named proxies are installed. Returns their paths, and a skip reason when one is missing
 * and cannot be installed; throws instead of skipping when CI is set. `purpose` ends the messages
 * (default: for the proxy tests; the demo passes its own).
 *
 * @param {readonly ('nginx' | 'haproxy')[]} names
 * @param {{ purpose?: string }} [options]
 * @returns {{ paths: Partial<Record<'nginx' | 'haproxy', string>>, skipReason?: string }}
 */
export function ensureProxies(names = ['nginx', 'haproxy'], options = {}) {
  const purpose = options.purpose ?? 'for the proxy tests'
  /** @type {Partial<Record<'nginx' | 'haproxy', string>>} */
  const paths = {}
  for (const n of names) paths[n] = findBinary(n)
  const missing = names.filter((n) => paths[n] === undefined)
  if (missing.length === 0) return { paths }
  const why = install(missing, purpose)
  for (const n of missing) paths[n] = findBinary(n)
  const still = names.filter((n) => paths[n] === undefined)
  if (still.length === 0) return { paths }
  const reason =
    `${still.join(' and ')} not installed and ${why ?? 'not found after installation'}; ` +
    `install ${still.length > 1 ? 'them' : 'it'} with \`apt-get install -y ${still.map((n) => PACKAGES[n][0]).join(' ')}\` (${purpose})`
  if (isCI()) throw new Error(`${reason} (CI is set, so this is a failure, not a skip)`)
  return { paths, skipReason: reason }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { paths, skipReason } = ensureProxies()
    for (const [name, path] of Object.entries(paths)) console.log(`${name}: ${path ?? 'missing'}`)
    if (skipReason) {
      console.error(`proxy tests would be skipped: ${skipReason}`)
      process.exitCode = 1
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  }
}
