import { Ajv, type ValidateFunction } from 'ajv'
import type { JsonPath, ProblemList } from './policy-problems.js'

const nonEmptyString = { type: 'string', minLength: 1 } as const
const stringList = { type: 'array', items: nonEmptyString, minItems: 1 } as const
const claimValue = { type: ['string', 'number', 'boolean'] } as const
const channelList = {
  type: 'array',
  items: { type: 'string', enum: ['mtls', 'xfcc', 'jwt', 'oidc'] },
  minItems: 1,
} as const
const requestPrincipalList = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['iss', 'sub'],
    properties: { iss: nonEmptyString, sub: nonEmptyString },
  },
} as const

/**
 * The JSON Schema (draft-07) of policy documents. Structure only: unknown keys are errors at every
 * level. Value rules that a schema states badly (string match forms, path templates, "exactly one
 * operator", HTTP vs gRPC entries, boundary keys that the identity template must capture) are
 * checked when the policy is compiled, with the same error format.
 *
 * Point an editor at it (`# yaml-language-server: $schema=…`, or `"$schema"` in JSON).
 *
 * @example
 * ```ts
 * import { policySchema } from '@svidkit/core/policy'
 * writeFileSync('svidkit-policy.schema.json', JSON.stringify(policySchema, null, 2))
 * ```
 */
export const policySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://svidkit.dev/schemas/policy-v1.json',
  title: 'svidkit authorization policy',
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    $schema: { type: 'string' },
    version: { type: 'integer', enum: [1] },
    defaultAction: { type: 'string', enum: ['deny', 'allow'] },
    identity: {
      type: 'object',
      additionalProperties: false,
      properties: {
        template: nonEmptyString,
        templates: stringList,
      },
    },
    rules: { type: 'array', items: { $ref: '#/definitions/rule' } },
  },
  definitions: {
    rule: {
      type: 'object',
      additionalProperties: false,
      properties: {
        id: nonEmptyString,
        description: { type: 'string' },
        action: { type: 'string', enum: ['ALLOW', 'DENY', 'AUDIT'] },
        from: { type: 'array', minItems: 1, items: { $ref: '#/definitions/source' } },
        to: { type: 'array', minItems: 1, items: { $ref: '#/definitions/operation' } },
        scopes: {
          type: 'object',
          additionalProperties: false,
          properties: { allOf: stringList, anyOf: stringList },
        },
        boundary: {
          type: 'object',
          additionalProperties: { $ref: '#/definitions/boundaryCondition' },
        },
        when: { type: 'array', minItems: 1, items: { $ref: '#/definitions/claimCondition' } },
      },
    },
    source: {
      type: 'object',
      additionalProperties: false,
      properties: {
        principals: stringList,
        notPrincipals: stringList,
        trustDomains: stringList,
        notTrustDomains: stringList,
        requestPrincipals: requestPrincipalList,
        notRequestPrincipals: requestPrincipalList,
        channels: channelList,
        notChannels: channelList,
      },
    },
    operation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        methods: stringList,
        notMethods: stringList,
        paths: stringList,
        notPaths: stringList,
        grpcMethods: stringList,
        notGrpcMethods: stringList,
      },
    },
    boundaryCondition: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sameAs: { type: 'string', enum: ['self'] },
        notSameAs: { type: 'string', enum: ['self'] },
        equals: nonEmptyString,
        notEquals: nonEmptyString,
        in: stringList,
        notIn: stringList,
      },
    },
    claimCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['claim'],
      properties: {
        claim: {
          type: ['string', 'array'],
          minLength: 1,
          minItems: 1,
          items: nonEmptyString,
        },
        equals: claimValue,
        notEquals: claimValue,
        in: { type: 'array', minItems: 1, items: claimValue },
        notIn: { type: 'array', minItems: 1, items: claimValue },
      },
    },
  },
} as const

let validator: ValidateFunction | undefined

function getValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, logger: false }).compile(
    policySchema,
  )
  return validator
}

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s))
}

const article = (t: string): string =>
  t === 'array' || t === 'object' || t === 'integer' ? `an ${t}` : `a ${t}`

/** Known keys at a schema location, to suggest a fix for a typo. */
function knownKeys(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties
  return props ? Object.keys(props) : []
}

function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!
    d[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!
      d[j] = Math.min(
        d[j]! + 1,
        d[j - 1]! + 1,
        prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      )
      prev = tmp
    }
  }
  return d[b.length]!
}

function suggest(key: string, keys: string[]): string {
  let best: string | undefined
  let bestD = 3
  for (const k of keys) {
    const dd = distance(key, k)
    if (dd < bestD) {
      best = k
      bestD = dd
    }
  }
  return best ? `unknown key, did you mean "${best}"?` : 'unknown key'
}

/**
 * Validates the structure of a policy document, adding one problem per schema error. Returns
 * whether the document is structurally valid.
 */
export function validatePolicySchema(value: unknown, problems: ProblemList): boolean {
  const validate = getValidator()
  if (validate(value)) return true
  // `verbose` is off: rebuild parentSchema for additionalProperties from the schema path.
  for (const e of validate.errors ?? []) {
    const path: JsonPath = parsePointer(e.instancePath)
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty)
        const keys = knownKeys(schemaAt(path))
        problems.error('unknown-key', [...path, key], suggest(key, keys), { key: true })
        break
      }
      case 'required':
        problems.error(
          'schema',
          path,
          `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`,
        )
        break
      case 'type': {
        const t = (e.params as { type: string | string[] }).type
        const list = (Array.isArray(t) ? t : String(t).split(',')).map(article)
        problems.error('schema', path, `must be ${list.join(' or ')}`)
        break
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
        problems.error(
          'schema',
          path,
          allowed.length === 1
            ? `must be ${JSON.stringify(allowed[0])}`
            : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
        )
        break
      }
      case 'minItems':
      case 'minLength':
        problems.error('schema', path, 'must not be empty')
        break
      default:
        problems.error('schema', path, e.message ?? 'is invalid')
    }
  }
  return false
}

/** The sub-schema that describes the value at an instance path (following `$ref`s). */
function schemaAt(path: JsonPath): unknown {
  const deref = (n: unknown): unknown => {
    const ref = (n as { $ref?: string } | undefined)?.$ref
    return ref ? (policySchema.definitions as Record<string, unknown>)[ref.replace('#/definitions/', '')] : n
  }
  let node: unknown = policySchema
  for (const seg of path) {
    const n = deref(node) as
      | { items?: unknown; properties?: Record<string, unknown>; additionalProperties?: unknown }
      | undefined
    if (!n) return undefined
    if (typeof seg === 'number') node = n.items
    else
      node =
        n.properties?.[seg] ??
        (typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined)
  }
  return deref(node)
}
