/**
 * The caller model: who called (`Caller`) and what they are doing (`Operation`).
 *
 * @example
 * ```ts
 * import type { Caller, Operation } from '@svidkit/core/caller'
 * ```
 * @module
 */
export type { Caller, CallerChannel, OidcCaller, OidcPrincipal, SpiffeCaller } from './caller.js'
export type { GrpcOperation, HttpOperation, Operation } from './operation.js'
