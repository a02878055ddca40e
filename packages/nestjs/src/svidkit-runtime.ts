// What SvidkitModule builds once per application from its options (internal): the verifier, the
// application's X.509 source, the Nest wiring options, and each handler's compiled requirement.
import type { Reflector } from '@nestjs/core'
import { type CallerVerifierInput, callerVerifierFrom, routeModeOf } from '@svidkit/core/adapter'
import type { CallerVerifier } from '@svidkit/core/caller'
import { type HttpErrorBody, OptionsError } from '@svidkit/core/errors'
import { RouteTable } from './route-table.js'
import type { SvidkitModuleOptions, SvidkitX509Source } from './svidkit-module.options.js'

/** Internal injection token of the runtime. */
export const SVIDKIT_RUNTIME: unique symbol = Symbol.for('@svidkit/nestjs.runtime')

export interface SvidkitRuntime {
  readonly verifier: CallerVerifier
  readonly source: SvidkitX509Source | undefined
  readonly routes: RouteTable
  readonly realm: string | undefined
  readonly errorBody: ((body: HttpErrorBody, request: unknown) => unknown) | undefined
  /** Closes the source (once). */
  close(): Promise<void>
}

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/nestjs: ${reason}`)
}

const isSource = (v: unknown): v is SvidkitX509Source =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SvidkitX509Source).getX509Svid === 'function' &&
  typeof (v as SvidkitX509Source).getX509BundleForTrustDomain === 'function'

async function openSource(option: SvidkitModuleOptions['source']): Promise<SvidkitX509Source | undefined> {
  if (option === undefined) return undefined
  if (isSource(option)) return option
  if (option !== true && (typeof option !== 'object' || option === null)) {
    bad('"source" must be true, X509Source options, or an X.509 source')
  }
  // Loaded only when asked for: the Workload API client is not needed otherwise.
  const { X509Source } = await import('@svidkit/core/workload-api')
  return X509Source.create(option === true ? {} : option)
}

/**
 * The runtime of `options`: validated, with the source opened (from the Workload API when asked) and
 * the verifier built.
 */
export async function createSvidkitRuntime(
  options: SvidkitModuleOptions,
  reflector: Reflector,
): Promise<SvidkitRuntime> {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const { source: sourceOption, realm, defaultMode: modeOption, errorBody, ...verifierInput } = options
  if (realm !== undefined && typeof realm !== 'string') bad('realm must be a string')
  const defaultMode = routeModeOf(modeOption, '@svidkit/nestjs')
  if (errorBody !== undefined && typeof errorBody !== 'function') bad('errorBody must be a function')
  if (!('verifier' in verifierInput) && verifierInput.bundles === undefined && sourceOption === undefined) {
    bad('give "bundles", a "source" (true: the Workload API), or a ready "verifier"')
  }
  const source = await openSource(sourceOption)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= Promise.resolve(source?.close?.()).then(() => undefined)
    return closing
  }
  try {
    const verifier = callerVerifierFrom(
      ('verifier' in verifierInput || source === undefined
        ? verifierInput
        : {
            ...verifierInput,
            bundles: verifierInput.bundles ?? source,
            self: verifierInput.self ?? source,
          }) as CallerVerifierInput,
      {},
      '@svidkit/nestjs',
    )
    return Object.freeze({
      verifier,
      source,
      routes: new RouteTable(reflector, verifier, defaultMode),
      realm,
      errorBody,
      close,
    })
  } catch (err) {
    await close()
    throw err
  }
}
