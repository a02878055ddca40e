import { OptionsError } from '../errors/domain-errors.js'
import { createRequirement, type RouteRequirement } from './create-requirement.js'

// The capture-name grammar of identity templates (spiffe-id path templates).
const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Validates a {@link RouteRequirement} now, before the verifier that will compile it (and so its
 * identity templates) is known: for per-route helpers created at module load, such as Express's
 * `requireCaller()` or a NestJS decorator. Everything is checked as `createRequirement` checks it,
 * except whether the verifier's identity templates capture each boundary key: that is checked when
 * `verifier.requirement(spec)` compiles it.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` for an invalid requirement.
 * @example
 * ```ts
 * import { validateRequirement } from '@svidkit/core/caller'
 * validateRequirement({ boundary: { tenant: { sameAs: 'self' } } }) // ok: templates come later
 * validateRequirement({ scopes: 'orders:read' } as never)          // throws ERR_OPTIONS_INVALID
 * ```
 */
export function validateRequirement(spec: RouteRequirement): void {
  const boundary = typeof spec === 'object' && spec !== null ? spec.boundary : undefined
  const keys =
    typeof boundary === 'object' && boundary !== null && !Array.isArray(boundary)
      ? Object.keys(boundary).filter((k) => k !== 'trustDomain')
      : []
  for (const key of keys) {
    if (!CAPTURE_NAME.test(key)) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `createRequirement: boundary "${key}" is not a valid capture name`,
      )
    }
  }
  // A stand-in template that captures exactly the boundary keys, so the rest is validated in full.
  const identityTemplates = keys.length > 0 ? [`/${keys.map((k) => `{${k}}`).join('/')}`] : []
  createRequirement(spec, { identityTemplates })
}
