// Type-level assertions for the type tests. `@ts-expect-error` marks the negative cases.

/** `true` when `A` and `B` are the same type (not merely assignable either way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** Compiles only when `T` is `true`. */
export function assertType<T extends true>(_proof?: T): void {}
