import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { type AuditEvent, auditEventInput, parseAuditEvent } from '@svidkit/core/audit'
import { AuditError, toSvidkitError } from '@svidkit/core/errors'
import {
  type AuthorizationInput,
  createPolicyAuthorizer,
  loadPolicy,
  type Policy,
  policyClaimPaths,
} from '@svidkit/core/policy'
import { type CliResult, rejected } from '../cli-result.js'
import { readInput } from '../inputs.js'
import { textColumns } from '../text-columns.js'

/** Options of `svidkit policy replay`. */
export interface PolicyReplayOptions {
  audit: string
  policy: string
  policyOld?: string
}

interface Outcome {
  readonly decision: 'allow' | 'deny'
  readonly rule: string | null
  readonly reason: string
}

interface Group {
  change: 'allow→deny' | 'deny→allow' | 'rule changed'
  caller: string
  channel: string
  operation: AuditEvent['operation']
  count: number
  before: Outcome
  after: Outcome
}

const MAX_IGNORED_SHOWN = 20

function loadPolicyArg(file: string): Policy {
  return loadPolicy(readInput(file, 'policy file').toString('utf8'), { filename: file })
}

const callerText = (c: AuditEvent['caller']): string =>
  c === null ? '' : typeof c === 'string' ? c : `${c.iss} ${c.sub}`
const opText = (op: AuditEvent['operation']): string =>
  op.kind === 'http' ? `${op.method} ${op.path}` : op.kind === 'grpc' ? op.method : 'TLS connection'
const pathKey = (path: readonly string[]): string => JSON.stringify(path)

/**
 * `svidkit policy replay --audit FILE --policy NEW [--policy-old OLD]`: decides every audited request
 * again with the new policy and reports each decision that would change (allow→deny, deny→allow, or
 * another rule deciding), grouped by caller and operation with counts. The baseline is the recorded
 * decision, or with `--policy-old` the old policy's decision for the same input (so that decisions
 * the policy did not make, such as route requirements, do not show as changes). Exit 0 when nothing
 * would change, 1 when something would (or on bad input).
 */
export async function policyReplayCommand(o: PolicyReplayOptions): Promise<CliResult> {
  try {
    const next = loadPolicyArg(o.policy)
    const old = o.policyOld === undefined ? undefined : loadPolicyArg(o.policyOld)
    const nextAuthorizer = createPolicyAuthorizer(next)
    const oldAuthorizer = old ? createPolicyAuthorizer(old) : undefined
    // The claims either policy reads: a token caller's event must have recorded all of them.
    const needed = [...policyClaimPaths(next), ...(old ? policyClaimPaths(old) : [])].map((p) =>
      pathKey(typeof p === 'string' ? [p] : p),
    )

    readInput(o.audit, 'audit file') // a missing or unreadable file is ERR_CLI_INPUT, like every command
    const lines = createInterface({ input: createReadStream(o.audit), crlfDelay: Number.POSITIVE_INFINITY })
    const groups = new Map<string, Group>()
    const ignored: { line: number; reason: string }[] = []
    let lineNo = 0
    let events = 0
    let unauthenticated = 0
    let claimsMissing = 0
    let replayed = 0
    let changed = 0
    let notReproduced = 0
    const missingClaims = new Set<string>()

    for await (const raw of lines) {
      lineNo++
      const text = raw.trim()
      if (text === '') continue
      let event: AuditEvent
      let input: AuthorizationInput | undefined
      try {
        event = parseAuditEvent(JSON.parse(text))
        if (event.caller !== null) input = auditEventInput(event)
      } catch (err) {
        // Logs written through a logger hold other lines too: they are counted, not fatal.
        const reason = err instanceof SyntaxError ? 'not JSON' : toSvidkitError(err).message
        ignored.push({ line: lineNo, reason })
        continue
      }
      events++
      if (input === undefined) {
        unauthenticated++
        continue
      }
      if (event.channel === 'jwt' || event.channel === 'oidc') {
        const recorded = new Set((event.claims ?? []).map((c) => pathKey(c.path)))
        const missing = needed.filter((p) => !recorded.has(p))
        if (missing.length > 0) {
          for (const p of missing) missingClaims.add(p)
          claimsMissing++
          continue
        }
      }
      replayed++
      const recorded: Outcome = { decision: event.decision, rule: event.rule, reason: event.reason }
      let before = recorded
      if (oldAuthorizer) {
        const d = oldAuthorizer.authorize(input)
        before = { decision: d.decision, rule: d.rule, reason: d.reason }
        if (before.decision !== recorded.decision || before.rule !== recorded.rule) notReproduced++
      }
      const d = nextAuthorizer.authorize(input)
      const after: Outcome = { decision: d.decision, rule: d.rule, reason: d.reason }
      if (after.decision === before.decision && after.rule === before.rule) continue
      changed++
      const change =
        after.decision === before.decision
          ? ('rule changed' as const)
          : after.decision === 'deny'
            ? ('allow→deny' as const)
            : ('deny→allow' as const)
      const caller = callerText(event.caller)
      const key = JSON.stringify([change, caller, event.channel, event.operation, before.rule, after.rule])
      const group = groups.get(key)
      if (group) group.count++
      else
        groups.set(key, {
          change,
          caller,
          channel: event.channel ?? '',
          operation: event.operation,
          count: 1,
          before,
          after,
        })
    }
    if (events === 0) {
      throw new AuditError(
        'ERR_AUDIT_EVENT_INVALID',
        `${o.audit}: no audit events (${lineNo} lines${ignored[0] ? `; line ${ignored[0].line}: ${ignored[0].reason}` : ''})`,
      )
    }

    // What breaks calls first, then what opens access, then rule changes; biggest groups first.
    const rank = { 'allow→deny': 0, 'deny→allow': 1, 'rule changed': 2 }
    const changes = [...groups.values()].sort(
      (a, b) => rank[a.change] - rank[b.change] || b.count - a.count || a.caller.localeCompare(b.caller),
    )
    const claimPaths = [...missingClaims].map((k) => (JSON.parse(k) as string[]).join('.'))
    const json = {
      ok: true,
      audit: o.audit,
      policy: o.policy,
      baseline: o.policyOld ?? 'recorded',
      events,
      replayed,
      changed,
      unchanged: replayed - changed,
      skipped: { unauthenticated, claimsNotRecorded: claimsMissing },
      ...(oldAuthorizer ? { notReproducedByOldPolicy: notReproduced } : {}),
      ...(claimPaths.length ? { claimsNotRecorded: claimPaths } : {}),
      ignoredLines: ignored.length,
      ...(ignored.length ? { ignored: ignored.slice(0, MAX_IGNORED_SHOWN) } : {}),
      changes: changes.map((g) => ({
        change: g.change,
        caller: g.caller,
        channel: g.channel,
        operation: g.operation,
        count: g.count,
        before: g.before,
        after: g.after,
      })),
    }

    const out: string[] = [
      `replayed ${replayed} of ${events} audit events from ${o.audit} against ${o.policy}`,
      `  baseline: ${old ? `${o.policyOld} (it reproduces ${replayed - notReproduced} of the ${replayed} recorded decisions)` : 'the recorded decisions'}`,
    ]
    if (unauthenticated)
      out.push(`  not replayed: ${unauthenticated} refused before a caller was established`)
    if (claimsMissing) {
      out.push(
        `  not replayed: ${claimsMissing} token callers whose events do not record the claims the policy reads (${claimPaths.join(', ')}); record them with createAuditor({ claims })`,
      )
    }
    if (ignored.length)
      out.push(
        `  ignored: ${ignored.length} lines that are not audit events (first: line ${ignored[0]!.line}, ${ignored[0]!.reason})`,
      )
    out.push('')
    if (changes.length === 0) out.push(`no decision would change (${replayed} unchanged)`)
    else {
      out.push(
        `${changed} decision${changed === 1 ? '' : 's'} would change, in ${changes.length} group${changes.length === 1 ? '' : 's'} (${replayed - changed} unchanged):`,
      )
      const rows = changes.map((g) => [
        `  ${g.change}`,
        `×${g.count}`,
        `${g.caller} (${g.channel})`,
        opText(g.operation),
      ])
      const lines = textColumns(rows)
      changes.forEach((g, i) => {
        out.push(lines[i]!, `      before: ${g.before.reason}`, `      after:  ${g.after.reason}`)
      })
    }
    return { exitCode: changed === 0 ? 0 : 1, json, human: out.join('\n'), humanToStdout: true }
  } catch (err) {
    return rejected(err)
  }
}
