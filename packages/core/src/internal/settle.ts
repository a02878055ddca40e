/**
 * A value, or a promise of it.
 *
 * @example
 * ```ts
 * const r: MaybePromise<VerifiedCall> = verifier.verifyCaller(credentials)
 * const { caller } = r instanceof Promise ? await r : r
 * ```
 */
export type MaybePromise<T> = T | Promise<T>

/**
 * Continues with `onValue` synchronously when `value` is not a promise, so synchronous pipelines
 * stay synchronous (no microtask per request), and with `.then` otherwise.
 *
 * @example
 * ```ts
 * settle(verifier.verifyCaller(credentials), (r) => attach(r), (err) => reply(err))
 * ```
 */
export function settle<T, U>(
  value: MaybePromise<T>,
  onValue: (v: T) => MaybePromise<U>,
  onError?: (err: unknown) => MaybePromise<U>,
): MaybePromise<U> {
  if (value instanceof Promise) return onError ? value.then(onValue, onError) : value.then(onValue)
  if (!onError) return onValue(value)
  try {
    const r = onValue(value)
    return r instanceof Promise ? r.catch(onError) : r
  } catch (err) {
    return onError(err)
  }
}

/**
 * Runs `fn` and continues like {@link settle}, also catching a synchronous throw: the shape adapters
 * use around `verifyCaller` so a refusal takes one path whether it was synchronous or not.
 *
 * @example
 * ```ts
 * attempt(() => verifier.verifyCaller(credentials), (r) => next(), (err) => reply(err))
 * ```
 */
export function attempt<T, U>(
  fn: () => MaybePromise<T>,
  onValue: (v: T) => MaybePromise<U>,
  onError: (err: unknown) => MaybePromise<U>,
): MaybePromise<U> {
  let value: MaybePromise<T>
  try {
    value = fn()
  } catch (err) {
    return onError(err)
  }
  return settle(value, onValue, onError)
}
