import { SvidkitError } from '@svidkit/core/errors'
import { parseXfcc, selectXfccCaller } from '@svidkit/core/xfcc'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { usage } from '../inputs.js'

/**
 * `svidkit xfcc <header-value> [--trusted-hops N] [--by ID]`: parses an `x-forwarded-client-cert`
 * value and shows who it names as the caller. A header that parses but names no acceptable caller
 * prints `"caller": null` with `callerError` and exits 1.
 */
export function xfccCommand(header: string, options: { trustedHops?: string; by?: string }): CliResult {
  let trustedHops: number | undefined
  if (options.trustedHops !== undefined) {
    trustedHops = Number(options.trustedHops)
    if (!/^\d+$/.test(options.trustedHops) || trustedHops < 1) {
      return rejected(usage(`--trusted-hops must be an integer ≥ 1, got "${options.trustedHops}"`))
    }
  }
  let elements: ReturnType<typeof parseXfcc>
  try {
    if (header.trim() === '') throw new SvidkitError('ERR_XFCC_MISSING', 'header is empty')
    elements = parseXfcc(header)
  } catch (err) {
    return rejected(err)
  }
  const plain = elements.map((e) => ({ ...e }))
  try {
    const { caller, index } = selectXfccCaller(elements, {
      ...(trustedHops === undefined ? {} : { trustedHops }),
      ...(options.by === undefined ? {} : { by: options.by }),
    })
    return accepted(
      { elements: plain, caller: caller.toString() },
      `${plain.length} element(s); caller: ${caller} (element ${index + 1})`,
    )
  } catch (err) {
    const e = rejected(err)
    return {
      exitCode: e.exitCode === 2 ? 2 : 1,
      json:
        e.exitCode === 2
          ? e.json
          : {
              ok: true,
              elements: plain,
              caller: null,
              callerError: { code: e.json.code, message: e.json.message },
            },
      human: `${plain.length} element(s); no acceptable caller: ${e.json.message} (${e.json.code})`,
    }
  }
}
