import type { CallerVerifierInput } from '@svidkit/core/adapter'
import type { HttpErrorBody } from '@svidkit/core/errors'
import type { FastifyRequest } from 'fastify'

/**
 * The Fastify-specific options of the plugin (everything else is core's `CallerVerifierOptions`).
 *
 * @example
 * ```ts
 * const adapter: SvidkitFastifyAdapterOptions = {
 *   realm: 'orders',
 *   defaultMode: 'required',
 *   errorBody: (body) => ({ type: 'about:blank', title: body.error, detail: body.message, code: body.code }),
 * }
 * ```
 */
export interface SvidkitFastifyAdapterOptions {
  /**
   * The request decorator holding the caller. Default `caller`, which this package types through
   * `declare module 'fastify'`; with another name, read it as `request.getDecorator<Caller | undefined>(name)`
   * (Fastify ≥ 5.3) or `(request as unknown as Record<string, Caller | undefined>)[name]`.
   */
  decoratorName?: string
  /** `realm` of the `WWW-Authenticate` challenge. Default `svidkit`. */
  realm?: string
  /**
   * Authentication for routes whose `config.svid` does not say `public` or `optional`: `required`
   * (default), `optional` or `none`. Route requirements still apply to routes that have one.
   */
  defaultMode?: 'required' | 'optional' | 'none'
  /**
   * Replaces the JSON error body. Status and headers (`WWW-Authenticate`) always come from core's
   * status table; only the body is yours.
   */
  errorBody?: (body: HttpErrorBody, request: FastifyRequest) => unknown
}

/**
 * Options of the svidkit Fastify plugin: core's `CallerVerifierOptions` (or a ready `verifier`), plus
 * {@link SvidkitFastifyAdapterOptions}. Without an `audit` option, decisions are logged to
 * `fastify.log` (allow at `info`, deny at `warn`).
 *
 * @example
 * ```ts
 * const options: SvidkitFastifyOptions = {
 *   bundles,
 *   self: 'spiffe://example.org/ns/shop/sa/orders',
 *   jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *   realm: 'orders',
 * }
 * ```
 */
export type SvidkitFastifyOptions = CallerVerifierInput & SvidkitFastifyAdapterOptions
