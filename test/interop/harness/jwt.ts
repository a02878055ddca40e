// JWT-SVID manipulation for refusal cases, and the three verdicts compared across implementations:
// svidkit's local verifyJwtSvid, an agent's ValidateJWTSVID (through svidkit's client), and go-spiffe's
// jwtsvid.ParseAndValidate (through the peer's `jwt-validate`).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { JwtBundleSource } from '@svidkit/core/bundle'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import type { WorkloadApiClient } from '@svidkit/core/workload-api'
import { runPeer } from './go-peer.js'

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

/** The decoded header or payload of a compact JWS. */
export function jwtPart(token: string, part: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}

/** The same token with one signature character changed in the middle (never only padding bits). */
export function tamperSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string]
  const i = Math.floor(s.length / 2)
  const c = s[i] === 'A' ? 'B' : 'A'
  return `${h}.${p}.${s.slice(0, i)}${c}${s.slice(i + 1)}`
}

/** The same header and signature over a payload with `patch` applied (so the signature no longer matches). */
export function withClaims(token: string, patch: Record<string, unknown>): string {
  const [h, , s] = token.split('.') as [string, string, string]
  return `${h}.${b64({ ...jwtPart(token, 1), ...patch })}.${s}`
}

/** A verdict: `ok` or the refusal's code. */
export type Verdict = 'ok' | string

/** svidkit's `verifyJwtSvid` against a bundle source. */
export function svidkitVerdict(
  token: string,
  bundles: JwtBundleSource,
  audience: string | string[],
): Verdict {
  try {
    verifyJwtSvid(token, bundles, { audience })
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** An agent's `ValidateJWTSVID`, through svidkit's Workload API client. */
export async function agentVerdict(
  client: WorkloadApiClient,
  token: string,
  audience: string,
): Promise<Verdict> {
  try {
    await client.validateJwtSvid(token, audience, { signal: AbortSignal.timeout(10_000) })
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** go-spiffe's `jwtsvid.ParseAndValidate` against a SPIFFE bundle document written to `dir`. */
export async function goVerdict(
  dir: string,
  trustDomain: string,
  spiffeBundleJson: string,
  token: string,
  audience: string | string[] | null,
): Promise<Verdict> {
  const file = join(dir, `bundle-${trustDomain}.json`)
  writeFileSync(file, spiffeBundleJson)
  const args = ['jwt-validate', '-bundle', file, '-trust-domain', trustDomain, '-token', token]
  if (audience === null) args.push('-no-audience')
  else args.push('-audience', Array.isArray(audience) ? audience.join(',') : audience)
  const r = await runPeer(args)
  return r.json.ok === true ? 'ok' : `go: ${r.json.error ?? r.stderr}`
}

/** Whether a verdict accepts. */
export const accepted = (v: Verdict): boolean => v === 'ok'
