// Immutable results: verified claims and dates are shared by caches, so nothing in them may change.
// Not exported from the package.

/**
 * Freezes a decoded JSON value in place, all the way down. Results are shared by caches, so nothing
 * in them may change. Recursive for the usual shallow claims (several times faster than a work list),
 * iterative past depth 64, since a token's nesting is bounded only by its size.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) freezeTree(value, 0)
  return value
}

function freezeTree(value: object, depth: number): void {
  Object.freeze(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeChild(value[i], depth)
  } else {
    const keys = Object.keys(value)
    for (let i = 0; i < keys.length; i++) freezeChild((value as Record<string, unknown>)[keys[i]!], depth)
  }
}

function freezeChild(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return
  if (depth < 64) {
    freezeTree(v, depth + 1)
    return
  }
  const stack: object[] = [v]
  while (stack.length > 0) {
    const o = stack.pop()!
    Object.freeze(o)
    for (const c of Object.values(o))
      if (typeof c === 'object' && c !== null && !Object.isFrozen(c)) stack.push(c)
  }
}

const DATE_SETTERS = [
  'setDate',
  'setFullYear',
  'setHours',
  'setMilliseconds',
  'setMinutes',
  'setMonth',
  'setSeconds',
  'setTime',
  'setUTCDate',
  'setUTCFullYear',
  'setUTCHours',
  'setUTCMilliseconds',
  'setUTCMinutes',
  'setUTCMonth',
  'setUTCSeconds',
  'setYear',
] as const

/** A `Date` whose setters throw: results that hold dates can be shared safely. */
class ImmutableDate extends Date {}
for (const name of DATE_SETTERS) {
  Object.defineProperty(ImmutableDate.prototype, name, {
    value(): never {
      throw new TypeError('svidkit: this Date belongs to a verified token and is read-only')
    },
    writable: false,
    enumerable: false,
    configurable: false,
  })
}

/** A `Date` (an `instanceof Date`) whose setters throw. */
export function immutableDate(ms: number): Date {
  return new ImmutableDate(ms)
}
