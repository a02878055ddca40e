import { join } from 'node:path'
import { BundleSet, marshalBundleMap, SpiffeBundle } from '@svidkit/core/bundle'
import { fetchJwtBundles, fetchJwtSvid, fetchX509Bundles, fetchX509Context } from '@svidkit/core/workload-api'
import { marshalX509Svid } from '@svidkit/core/x509-svid'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { usage } from '../inputs.js'
import { makeOutputDir, writeOutputFile } from '../outputs.js'

/** Options shared by the `fetch` commands. */
export interface FetchOptions {
  socket?: string
  timeout?: string
}

function callOptions(o: FetchOptions): { address?: string; signal: AbortSignal } {
  const ms = o.timeout === undefined ? 10_000 : Number(o.timeout) * 1000
  if (!Number.isFinite(ms) || ms <= 0)
    throw usage(`--timeout must be a positive number of seconds, got "${o.timeout}"`)
  return { ...(o.socket === undefined ? {} : { address: o.socket }), signal: AbortSignal.timeout(ms) }
}

function summarize(set: BundleSet) {
  return [...set].map((b) => ({
    trustDomain: b.trustDomain.name,
    x509Authorities: b.x509Authorities.length,
    jwtAuthorities: b.jwtAuthorities.size,
    jwtKeyIds: [...b.jwtAuthorities.keys()],
  }))
}

/**
 * `svidkit fetch x509 [--socket ADDR] [--write-dir DIR]`: the workload's X.509-SVIDs and bundles from
 * the Workload API; with `--write-dir`, writes them as spiffe-helper does (`svid.pem`, `svid_key.pem`
 * mode 0600, `svid_bundle.pem`, and `federated_bundle.<td>.pem` per federated trust domain).
 */
export async function fetchX509Command(o: FetchOptions & { writeDir?: string }): Promise<CliResult> {
  try {
    const options = callOptions(o)
    // The folder first: a bad --write-dir fails at once, without asking the agent.
    if (o.writeDir !== undefined) makeOutputDir(o.writeDir)
    const ctx = await fetchX509Context(options)
    const svid = ctx.svids[0]!
    const written: string[] = []
    if (o.writeDir !== undefined) {
      const pem = marshalX509Svid(svid)
      const write = (name: string, text: string, mode = 0o644): void => {
        const file = join(o.writeDir!, name)
        writeOutputFile(file, text, mode)
        written.push(file)
      }
      write('svid.pem', pem.certificates)
      write('svid_key.pem', pem.privateKey, 0o600)
      for (const b of ctx.bundles) {
        const text = b.x509Bundle().toPem()
        if (b.trustDomain.equals(svid.id.trustDomain)) write('svid_bundle.pem', text)
        else write(`federated_bundle.${b.trustDomain.name}.pem`, text)
      }
    }
    const svids = ctx.svids.map((s) => ({
      spiffeId: s.id.toString(),
      expiresAt: s.expiresAt.toISOString(),
      ...(s.hint ? { hint: s.hint } : {}),
    }))
    const trustDomains = ctx.bundles.trustDomains().map(String)
    return accepted(
      { spiffeId: svid.id.toString(), expiresAt: svid.expiresAt.toISOString(), trustDomains, svids, written },
      [
        `${svid.id}`,
        `  expires:       ${svid.expiresAt.toISOString()}`,
        `  trust domains: ${trustDomains.join(', ')}`,
        ...(svids.length > 1
          ? [
              `  other SVIDs:   ${svids
                .slice(1)
                .map((s) => s.spiffeId)
                .join(', ')}`,
            ]
          : []),
        ...written.map((f) => `  wrote ${f}`),
      ].join('\n'),
    )
  } catch (err) {
    return rejected(err)
  }
}

/** `svidkit fetch jwt --audience A [--spiffe-id ID]`: a JWT-SVID for an audience, and its claims. */
export async function fetchJwtCommand(
  o: FetchOptions & { audience: string[]; spiffeId?: string },
): Promise<CliResult> {
  try {
    const [audience, ...extraAudiences] = o.audience
    const svid = await fetchJwtSvid(
      { audience: audience!, extraAudiences, ...(o.spiffeId === undefined ? {} : { subject: o.spiffeId }) },
      callOptions(o),
    )
    return accepted(
      {
        spiffeId: svid.id.toString(),
        audience: [...svid.audience],
        expiresAt: svid.expiresAt.toISOString(),
        token: svid.token,
        claims: svid.claims,
      },
      `${svid.id}\n  audience: ${svid.audience.join(', ')}\n  expires:  ${svid.expiresAt.toISOString()}\n  token:    ${svid.token}`,
    )
  } catch (err) {
    return rejected(err)
  }
}

/**
 * `svidkit fetch bundles [--write FILE]`: the X.509 and JWT bundles the Workload API serves, per trust
 * domain; with `--write`, saves them as a SPIFFE bundle map (usable with `--bundle` everywhere).
 */
export async function fetchBundlesCommand(o: FetchOptions & { write?: string }): Promise<CliResult> {
  try {
    const opts = callOptions(o)
    const [x509, jwt] = await Promise.all([fetchX509Bundles(opts), fetchJwtBundles(opts)])
    if (o.write !== undefined) {
      const set = new BundleSet()
      for (const td of new Set([...x509.trustDomains(), ...jwt.trustDomains()].map(String))) {
        const x = x509.getSpiffeBundle(td)?.x509Bundle()
        const j = jwt.getSpiffeBundle(td)?.jwtBundle()
        set.add(SpiffeBundle.from({ ...(x ? { x509: x } : {}), ...(j ? { jwt: j } : {}) }))
      }
      writeOutputFile(o.write, `${marshalBundleMap(set)}\n`)
    }
    const byTd = new Map<
      string,
      { trustDomain: string; x509Authorities: number; jwtAuthorities: number; jwtKeyIds: string[] }
    >()
    for (const s of [...summarize(x509), ...summarize(jwt)]) {
      const held = byTd.get(s.trustDomain) ?? {
        trustDomain: s.trustDomain,
        x509Authorities: 0,
        jwtAuthorities: 0,
        jwtKeyIds: [],
      }
      held.x509Authorities += s.x509Authorities
      held.jwtAuthorities += s.jwtAuthorities
      held.jwtKeyIds.push(...s.jwtKeyIds)
      byTd.set(s.trustDomain, held)
    }
    const trustDomains = [...byTd.values()].sort((a, b) => a.trustDomain.localeCompare(b.trustDomain))
    return accepted(
      { trustDomains, ...(o.write === undefined ? {} : { written: [o.write] }) },
      [
        ...trustDomains.map(
          (t) => `${t.trustDomain}: ${t.x509Authorities} X.509 authorities, ${t.jwtAuthorities} JWT keys`,
        ),
        ...(o.write === undefined ? [] : [`wrote ${o.write} (bundle map)`]),
      ].join('\n'),
    )
  } catch (err) {
    return rejected(err)
  }
}
