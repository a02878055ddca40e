import type { HttpRouting } from './http-routing.js'

/**
 * An HTTP operation: method plus the request path (without query) and, when known, the route template.
 *
 * @example
 * ```ts
 * const op: HttpOperation = { kind: 'http', method: 'GET', path: '/orders/42', route: '/orders/:id' }
 * httpOperation(req, { route: '/orders/:id' }) // the same, for a request `GET /orders/42?page=2`
 * ```
 */
export interface HttpOperation {
  readonly kind: 'http'
  /** Upper-case method, e.g. `GET`. */
  readonly method: string
  /** The request path without the query string, e.g. `/orders/42`. */
  readonly path: string
  /**
   * The framework's route template, e.g. `/orders/:id`, when the router has already chosen the
   * handler. A template without parameters is the handler's own path: DENY and AUDIT rules also
   * match it, so a router quirk svidkit does not model can never skip a DENY.
   */
  readonly route?: string | undefined
  /** How the router matches paths; policy canonicalises rule and request paths under it. Default: exact. */
  readonly routing?: HttpRouting | undefined
}

/**
 * A gRPC operation: the full method `/package.Service/Method`.
 *
 * @example
 * ```ts
 * const op: GrpcOperation = { kind: 'grpc', method: '/orders.v1.Orders/Get' }
 * await verifier.verifyCaller({ operation: op, peerCertificates: chain })
 * ```
 */
export interface GrpcOperation {
  readonly kind: 'grpc'
  /** Full method name, e.g. `/orders.v1.Orders/Get`. */
  readonly method: string
}

/**
 * A TLS connection being accepted, before any request: what a TLS server or client authorizer decides
 * on in the handshake. Policy rules with a `to` never match it; rules without one do.
 *
 * @example
 * ```ts
 * const op: ConnectionOperation = { kind: 'connection' }
 * createPolicyAuthorizer(policy).authorize({ caller, self, operation: op })
 * ```
 */
export interface ConnectionOperation {
  readonly kind: 'connection'
}

/**
 * What the caller is trying to do, as policy sees it.
 *
 * @example
 * ```ts
 * const op: Operation = { kind: 'http', method: 'GET', path: '/orders/42' }
 * const rpc: Operation = { kind: 'grpc', method: '/orders.v1.Orders/Get' }
 * ```
 */
export type Operation = HttpOperation | GrpcOperation | ConnectionOperation
