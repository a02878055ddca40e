import { PolicyError, toSvidkitError } from '@svidkit/core/errors'
import { callerFromId, createPolicyAuthorizer, loadPolicy } from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import type { CliResult } from '../cli-result.js'
import { rejected } from '../cli-result.js'
import { readInput } from '../inputs.js'
import { loadPolicyTests, type PolicyTestCase } from '../policy-tests/load-policy-tests.js'
import { textColumns } from '../text-columns.js'

const RULER = '-'.repeat(80)

const shown = (decision: string, rule: string | null | undefined): string =>
  rule === undefined ? decision : rule === null ? `${decision} (default)` : `${decision} ${rule}`

/**
 * `svidkit policy test POLICY CASES`: decides every case of a test file with the policy and compares
 * the decision (and the rule, when the case names one) with what the case expects. Prints a table
 * and `PASS: n/m` like `opa test`; exits 0 when every case passes, 1 on any mismatch or bad input.
 */
export function policyTestCommand(policyFile: string, casesFile: string): CliResult {
  try {
    const policy = loadPolicy(readInput(policyFile, 'policy file').toString('utf8'), { filename: policyFile })
    const cases = loadPolicyTests(readInput(casesFile, 'policy test file').toString('utf8'), casesFile)
    const authorizer = createPolicyAuthorizer(policy)
    const results = cases.map((c: PolicyTestCase) => {
      let got: { decision: 'allow' | 'deny'; rule: string | null; reason: string }
      try {
        const d = authorizer.authorize({
          caller: callerFromId(c.caller, {
            channel: c.channel,
            scopes: c.scopes,
            ...(c.claims ? { claims: c.claims } : {}),
          }),
          self: c.self === undefined ? undefined : SpiffeId.parse(c.self),
          operation: c.operation,
        })
        got = { decision: d.decision, rule: d.rule, reason: d.reason }
      } catch (err) {
        // A case whose caller or self is not a valid SPIFFE ID is a bad test file, not a failed case.
        throw new PolicyError(
          'ERR_POLICY_TESTS_INVALID',
          `${casesFile}: line ${c.line}: ${toSvidkitError(err).message}`,
          { cause: err, details: { filename: casesFile, line: c.line } },
        )
      }
      const pass = got.decision === c.expect && (c.rule === undefined || got.rule === c.rule)
      return { case: c, got, pass }
    })
    const failed = results.filter((r) => !r.pass).length
    const total = results.length

    const rows = [['', 'case', 'line', 'expected', 'got']]
    for (const r of results) {
      rows.push([
        r.pass ? 'PASS' : 'FAIL',
        r.case.name,
        String(r.case.line),
        shown(r.case.expect, r.case.rule),
        shown(r.got.decision, r.got.rule),
      ])
    }
    const lines = textColumns(rows)
    const human = [
      lines[0]!,
      ...results.flatMap((r, i) => (r.pass ? [lines[i + 1]!] : [lines[i + 1]!, `      ${r.got.reason}`])),
    ]
    human.push(RULER, `PASS: ${total - failed}/${total}`)
    if (failed > 0) human.push(`FAIL: ${failed}/${total}`)

    return {
      exitCode: failed === 0 ? 0 : 1,
      json: {
        ok: true,
        passed: total - failed,
        failed,
        cases: results.map((r) => ({
          name: r.case.name,
          line: r.case.line,
          pass: r.pass,
          expected: { decision: r.case.expect, ...(r.case.rule === undefined ? {} : { rule: r.case.rule }) },
          got: r.got,
        })),
      },
      human: human.join('\n'),
      // Like `opa test`: the table goes to stdout even when a case fails.
      humanToStdout: true,
    }
  } catch (err) {
    return rejected(err)
  }
}
