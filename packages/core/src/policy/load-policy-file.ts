import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PolicyError } from '../errors/domain-errors.js'
import { loadPolicy } from './load-policy.js'
import type { Policy } from './types.js'

/**
 * Reads a YAML or JSON policy file synchronously (meant for startup) and loads it with
 * {@link loadPolicy}; messages carry the file name. An unreadable file is `ERR_POLICY_INVALID` too.
 *
 * @example
 * ```ts
 * import { loadPolicyFile, createPolicyAuthorizer } from '@svidkit/core/policy'
 * const authorizer = createPolicyAuthorizer(loadPolicyFile('./policy.yaml'))
 * ```
 */
export function loadPolicyFile(path: string | URL): Policy {
  const filename = typeof path === 'string' ? path : fileURLToPath(path)
  let text: string
  try {
    text = readFileSync(filename, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new PolicyError(
      'ERR_POLICY_INVALID',
      `cannot read policy file ${filename}${code ? ` (${code})` : ''}`,
      {
        cause: err,
        details: { filename },
      },
    )
  }
  return loadPolicy(text, { filename })
}
