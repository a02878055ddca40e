// How decisions name callers and operations in their reasons (truncated, never a token).
import type { Caller } from '../caller/caller.js'
import type { EvalContext } from './compiled-policy.js'

const MAX_SHOWN = 200

export function clip(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s
}

/** `spiffe://td/a` or `oidc iss "https://issuer" sub "user"`. */
export function describeCaller(caller: Caller): string {
  if (caller.spiffeId) return caller.spiffeId.toString()
  if (caller.principal) return `oidc iss "${clip(caller.principal.iss)}" sub "${clip(caller.principal.sub)}"`
  return 'unknown caller'
}

export function describeOperation(ctx: EvalContext): string {
  if (ctx.kind === 'connection') return 'a TLS connection'
  return ctx.kind === 'http' ? `${clip(ctx.method)} ${clip(ctx.path)}` : `gRPC ${clip(ctx.method)}`
}

export const list = (values: readonly unknown[]): string =>
  `[${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}]`
