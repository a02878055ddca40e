import { SpiffeId } from '@svidkit/core/spiffe-id'
import { accepted, type CliResult, rejected } from '../cli-result.js'

/** `svidkit id <id>`: validates a SPIFFE ID and shows its parts. */
export function idCommand(input: string): CliResult {
  try {
    const id = SpiffeId.parse(input)
    return accepted(
      {
        spiffeId: id.toString(),
        trustDomain: id.trustDomain.name,
        path: id.path,
        segments: [...id.segments],
      },
      `${id}\n  trust domain: ${id.trustDomain}\n  path:         ${id.path === '' ? '(root)' : id.path}`,
    )
  } catch (err) {
    return rejected(err)
  }
}
