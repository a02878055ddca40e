import type { CallerChannel, Operation } from '@svidkit/core/caller'
import { callerFromId, createPolicyAuthorizer, lintPolicy, loadPolicy } from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { readInput, usage } from '../inputs.js'

/** Options of `svidkit policy check`. */
export interface PolicyCheckOptions {
  policy: string
  self: string
  caller: string
  issuer?: string
  channel?: string
  scope?: string[]
  claims?: string
  method?: string
  path?: string
  grpcMethod?: string
}

const CHANNELS: readonly CallerChannel[] = ['mtls', 'xfcc', 'jwt', 'oidc']

function operationOf(o: PolicyCheckOptions): Operation {
  if (o.grpcMethod !== undefined) {
    if (o.method !== undefined || o.path !== undefined)
      throw usage('use either --method/--path or --grpc-method, not both')
    if (!/^\/[^/]+\/[^/]+$/.test(o.grpcMethod))
      throw usage(`--grpc-method must look like /pkg.Service/Method, got "${o.grpcMethod}"`)
    return { kind: 'grpc', method: o.grpcMethod }
  }
  if (o.method === undefined || o.path === undefined)
    throw usage('give --method and --path, or --grpc-method')
  return { kind: 'http', method: o.method.toUpperCase(), path: o.path }
}

/**
 * `svidkit policy check`: what the policy decides for one caller and operation. Exits 0 on allow,
 * 1 on deny (and on a bad policy or identity), 2 on a usage error.
 */
export function policyCheckCommand(o: PolicyCheckOptions): CliResult {
  try {
    const channel = (o.channel ?? (o.issuer !== undefined ? 'oidc' : 'mtls')) as CallerChannel
    if (!CHANNELS.includes(channel)) throw usage(`--channel must be one of ${CHANNELS.join(', ')}`)
    const operation = operationOf(o)
    let claims: Record<string, unknown> | undefined
    if (o.claims !== undefined) {
      try {
        claims = JSON.parse(o.claims) as Record<string, unknown>
      } catch {
        throw usage('--claims must be a JSON object')
      }
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
        throw usage('--claims must be a JSON object')
    }
    if (channel === 'oidc' && o.issuer === undefined)
      throw usage('an oidc caller needs --issuer (and --caller is its sub)')
    if (channel !== 'oidc' && o.issuer !== undefined) throw usage('--issuer is only for --channel oidc')
    const text = readInput(o.policy, 'policy file').toString('utf8')
    const policy = loadPolicy(text, { filename: o.policy })
    const self = SpiffeId.parse(o.self)
    const caller = callerFromId(channel === 'oidc' ? { iss: o.issuer!, sub: o.caller } : o.caller, {
      channel,
      scopes: o.scope ?? [],
      ...(claims ? { claims } : {}),
    })
    const decision = createPolicyAuthorizer(policy).authorize({ caller, self, operation })
    const human = `${decision.decision}: ${decision.reason}`
    return {
      exitCode: decision.decision === 'allow' ? 0 : 1,
      json: { ok: true, decision: decision.decision, rule: decision.rule, reason: decision.reason },
      human,
    }
  } catch (err) {
    return rejected(err)
  }
}

/** `svidkit policy lint FILE`: every problem in a policy file, with positions. Exit 1 when any is an error. */
export function policyLintCommand(file: string): CliResult {
  try {
    const text = readInput(file, 'policy file').toString('utf8')
    const problems = lintPolicy(text, { filename: file })
    const errors = problems.filter((p) => p.severity === 'error')
    const lines = problems.map((p) => `${p.severity}: ${p.message} [${p.code}]`)
    if (errors.length > 0) {
      const first = errors[0]!
      return {
        exitCode: 1,
        json: { ok: false, code: 'ERR_POLICY_INVALID', message: `policy: ${first.message}`, problems },
        human: lines.join('\n'),
      }
    }
    return accepted({ problems }, lines.length ? lines.join('\n') : `${file}: no problems`)
  } catch (err) {
    return rejected(err)
  }
}
