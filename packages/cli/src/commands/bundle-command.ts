import { parseBundleDocument } from '@svidkit/core/bundle'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { readInput } from '../inputs.js'

/** `svidkit bundle <file> [--trust-domain td]`: what a bundle file holds, per trust domain. */
export function bundleCommand(file: string, options: { trustDomain?: string }): CliResult {
  try {
    const { format, bundles } = parseBundleDocument(readInput(file, 'bundle file'), {
      trustDomain: options.trustDomain,
    })
    const trustDomains = [...bundles].map((b) => ({
      trustDomain: b.trustDomain.name,
      x509Authorities: b.x509Authorities.length,
      jwtAuthorities: b.jwtAuthorities.size,
      jwtKeyIds: [...b.jwtAuthorities.keys()],
      sequence: b.sequenceNumber ?? null,
      refreshHint: b.refreshHintSeconds ?? null,
    }))
    const human = [`${file}: ${format}, ${trustDomains.length} trust domain(s)`]
    for (const t of trustDomains) {
      human.push(
        `  ${t.trustDomain}: ${t.x509Authorities} X.509 authorities, ${t.jwtAuthorities} JWT keys` +
          `${t.jwtKeyIds.length ? ` [${t.jwtKeyIds.join(', ')}]` : ''}` +
          `${t.sequence !== null ? `, sequence ${t.sequence}` : ''}${t.refreshHint !== null ? `, refresh hint ${t.refreshHint}s` : ''}`,
      )
    }
    return accepted({ format, trustDomains }, human.join('\n'))
  } catch (err) {
    return rejected(err)
  }
}
