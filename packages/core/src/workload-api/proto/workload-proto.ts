import type { ServiceDefinition } from '@grpc/grpc-js'
import protobuf from 'protobufjs'

/**
 * The Workload API protobuf definition, verbatim in its field numbers and names from spiffe/go-spiffe
 * `proto/spiffe/workload/workload.proto` (v2.8.1, identical to spiffe/spiffe `standards/workloadapi.proto`).
 * It has **no `package` statement**, so the service's full name is `SpiffeWorkloadAPI` and the method
 * paths are `/SpiffeWorkloadAPI/<Rpc>`. Embedded as text (no `.proto` file on disk, no `import.meta`)
 * so the module loads the same way from ESM and CJS.
 *
 * @example
 * ```ts
 * import { WORKLOAD_API_PROTO } from '@svidkit/core/workload-api'
 * writeFileSync('workload.proto', WORKLOAD_API_PROTO) // for grpcurl and friends
 * ```
 */
export const WORKLOAD_API_PROTO = `syntax = "proto3";

import "google/protobuf/struct.proto";

service SpiffeWorkloadAPI {
    rpc FetchX509SVID(X509SVIDRequest) returns (stream X509SVIDResponse);
    rpc FetchX509Bundles(X509BundlesRequest) returns (stream X509BundlesResponse);
    rpc FetchJWTSVID(JWTSVIDRequest) returns (JWTSVIDResponse);
    rpc FetchJWTBundles(JWTBundlesRequest) returns (stream JWTBundlesResponse);
    rpc ValidateJWTSVID(ValidateJWTSVIDRequest) returns (ValidateJWTSVIDResponse);
    rpc FetchWITSVID(WITSVIDRequest) returns (stream WITSVIDResponse);
    rpc FetchWITBundles(WITBundlesRequest) returns (stream WITBundlesResponse);
}

message X509SVIDRequest {  }

message X509SVIDResponse {
    repeated X509SVID svids = 1;
    repeated bytes crl = 2;
    map<string, bytes> federated_bundles = 3;
}

message X509SVID {
    string spiffe_id = 1;
    bytes x509_svid = 2;
    bytes x509_svid_key = 3;
    bytes bundle = 4;
    string hint = 5;
}

message X509BundlesRequest {
}

message X509BundlesResponse {
    repeated bytes crl = 1;
    map<string, bytes> bundles = 2;
}

message JWTSVIDRequest {
    repeated string audience = 1;
    string spiffe_id = 2;
}

message JWTSVIDResponse {
    repeated JWTSVID svids = 1;
}

message JWTSVID {
    string spiffe_id = 1;
    string svid = 2;
    string hint = 3;
}

message JWTBundlesRequest { }

message JWTBundlesResponse {
    map<string, bytes> bundles = 1;
}

message ValidateJWTSVIDRequest {
    string audience = 1;
    string svid = 2;
}

message ValidateJWTSVIDResponse {
    string spiffe_id = 1;
    google.protobuf.Struct claims = 2;
}

message WITSVIDRequest {
    string spiffe_id = 1;
}

message WITSVIDResponse {
    repeated WITSVID svids = 1;
}

message WITSVID {
    string spiffe_id = 1;
    string wit_svid = 2;
    string wit_svid_key = 3;
    string hint = 4;
}

message WITBundlesRequest { }

message WITBundlesResponse {
    map<string, string> bundles = 1;
}

option go_package = "github.com/spiffe/go-spiffe/v2/proto/spiffe/workload;workload";
`

/**
 * The gRPC metadata key every Workload API request carries (Workload Endpoint §3), with the value
 * `true`; servers answer `InvalidArgument` without it.
 *
 * @example
 * ```ts
 * const md = new Metadata()
 * md.set(WORKLOAD_API_SECURITY_HEADER, 'true')
 * ```
 */
export const WORKLOAD_API_SECURITY_HEADER = 'workload.spiffe.io'

/**
 * The fully qualified service name: `SpiffeWorkloadAPI`, with no package.
 *
 * @example
 * ```ts
 * `/${WORKLOAD_API_SERVICE_NAME}/FetchX509SVID` // the HTTP/2 path of an RPC
 * ```
 */
export const WORKLOAD_API_SERVICE_NAME = 'SpiffeWorkloadAPI'

// ---------------------------------------------------------------------------------------------
// Plain-object message shapes (protobufjs camelCase field names). Bytes are Uint8Array (Buffer when
// decoded); maps are plain objects keyed by trust domain SPIFFE ID.

/**
 * `X509SVIDRequest` (empty).
 *
 * @example
 * ```ts
 * const request: X509SvidRequestMessage = {}
 * workloadApiServiceDefinition.FetchX509SVID.requestSerialize(request) // an empty message
 * ```
 */
export type X509SvidRequestMessage = Record<string, never>
/**
 * `X509SVID`.
 *
 * @example
 * ```ts
 * const svid: X509SvidMessage = {
 *   spiffeId: 'spiffe://example.org/web', hint: '',
 *   x509Svid: chainDer, // leaf first, concatenated DER
 *   x509SvidKey: keyDer, // PKCS#8 DER
 *   bundle: x509Bundle.toDer(), // the bundle of the SVID's own trust domain
 * }
 * ```
 */
export interface X509SvidMessage {
  spiffeId: string
  x509Svid: Uint8Array
  x509SvidKey: Uint8Array
  bundle: Uint8Array
  hint: string
}
/**
 * `X509SVIDResponse`.
 *
 * @example
 * ```ts
 * const response: X509SvidResponseMessage = { svids: [svid], crl: [], federatedBundles: { 'spiffe://other.org': otherBundle.toDer() } }
 * const bytes = workloadApiServiceDefinition.FetchX509SVID.responseSerialize(response)
 * ```
 */
export interface X509SvidResponseMessage {
  svids: X509SvidMessage[]
  crl: Uint8Array[]
  federatedBundles: Record<string, Uint8Array>
}
/**
 * `X509BundlesRequest` (empty).
 *
 * @example
 * ```ts
 * const request: X509BundlesRequestMessage = {}
 * workloadApiServiceDefinition.FetchX509Bundles.requestSerialize(request) // an empty message
 * ```
 */
export type X509BundlesRequestMessage = Record<string, never>
/**
 * `X509BundlesResponse`.
 *
 * @example
 * ```ts
 * const response: X509BundlesResponseMessage = { crl: [], bundles: { 'spiffe://example.org': x509Bundle.toDer() } }
 * const bytes = workloadApiServiceDefinition.FetchX509Bundles.responseSerialize(response)
 * ```
 */
export interface X509BundlesResponseMessage {
  crl: Uint8Array[]
  bundles: Record<string, Uint8Array>
}
/**
 * `JWTSVIDRequest`.
 *
 * @example
 * ```ts
 * const request: JwtSvidRequestMessage = { audience: ['spiffe://example.org/orders'], spiffeId: '' } // '' = every identity
 * const bytes = workloadApiServiceDefinition.FetchJWTSVID.requestSerialize(request)
 * ```
 */
export interface JwtSvidRequestMessage {
  audience: string[]
  spiffeId: string
}
/**
 * `JWTSVID`.
 *
 * @example
 * ```ts
 * const svid: JwtSvidMessage = { spiffeId: 'spiffe://example.org/web', svid: token, hint: '' }
 * ```
 */
export interface JwtSvidMessage {
  spiffeId: string
  svid: string
  hint: string
}
/**
 * `JWTSVIDResponse`.
 *
 * @example
 * ```ts
 * const response: JwtSvidResponseMessage = { svids: [{ spiffeId: 'spiffe://example.org/web', svid: token, hint: '' }] }
 * const bytes = workloadApiServiceDefinition.FetchJWTSVID.responseSerialize(response)
 * ```
 */
export interface JwtSvidResponseMessage {
  svids: JwtSvidMessage[]
}
/**
 * `JWTBundlesRequest` (empty).
 *
 * @example
 * ```ts
 * const request: JwtBundlesRequestMessage = {}
 * workloadApiServiceDefinition.FetchJWTBundles.requestSerialize(request) // an empty message
 * ```
 */
export type JwtBundlesRequestMessage = Record<string, never>
/**
 * `JWTBundlesResponse`: JWKS JSON bytes keyed by trust domain SPIFFE ID.
 *
 * @example
 * ```ts
 * const response: JwtBundlesResponseMessage = {
 *   bundles: { 'spiffe://example.org': Buffer.from(JSON.stringify(jwtBundle.toJwks())) },
 * }
 * ```
 */
export interface JwtBundlesResponseMessage {
  bundles: Record<string, Uint8Array>
}
/**
 * `ValidateJWTSVIDRequest`.
 *
 * @example
 * ```ts
 * const request: ValidateJwtSvidRequestMessage = { audience: 'spiffe://example.org/orders', svid: token }
 * const bytes = workloadApiServiceDefinition.ValidateJWTSVID.requestSerialize(request)
 * ```
 */
export interface ValidateJwtSvidRequestMessage {
  audience: string
  svid: string
}
/**
 * `ValidateJWTSVIDResponse`. `claims` is the `google.protobuf.Struct` converted to plain JSON, or
 * `null` when the field is absent from the message.
 *
 * @example
 * ```ts
 * const response: ValidateJwtSvidResponseMessage = {
 *   spiffeId: 'spiffe://example.org/web',
 *   claims: { sub: 'spiffe://example.org/web', aud: ['spiffe://example.org/orders'], exp: 1767225600 },
 * }
 * ```
 */
export interface ValidateJwtSvidResponseMessage {
  spiffeId: string
  claims: Record<string, unknown> | null
}

// ---------------------------------------------------------------------------------------------
// Loading.

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root()
  const struct = protobuf.common.get('google/protobuf/struct.proto')
  if (!struct?.nested) throw new Error('protobufjs does not ship google/protobuf/struct.proto')
  root.addJSON(struct.nested)
  protobuf.parse(WORKLOAD_API_PROTO, root, { keepCase: false })
  root.resolveAll()
  return root
}

const root = loadRoot()
const type = (name: string): protobuf.Type => root.lookupType(name)

const T = {
  X509SVIDRequest: type('X509SVIDRequest'),
  X509SVIDResponse: type('X509SVIDResponse'),
  X509BundlesRequest: type('X509BundlesRequest'),
  X509BundlesResponse: type('X509BundlesResponse'),
  JWTSVIDRequest: type('JWTSVIDRequest'),
  JWTSVIDResponse: type('JWTSVIDResponse'),
  JWTBundlesRequest: type('JWTBundlesRequest'),
  JWTBundlesResponse: type('JWTBundlesResponse'),
  ValidateJWTSVIDRequest: type('ValidateJWTSVIDRequest'),
  ValidateJWTSVIDResponse: type('ValidateJWTSVIDResponse'),
}

const TO_OBJECT: protobuf.IConversionOptions = {
  defaults: true,
  arrays: true,
  objects: true,
  longs: Number,
  enums: String,
}

function codec<M extends object>(
  t: protobuf.Type,
  toWire: (m: M) => Record<string, unknown> = (m) => m as Record<string, unknown>,
  fromWire: (o: Record<string, unknown>) => M = (o) => o as M,
): { serialize: (m: M) => Buffer; deserialize: (b: Buffer) => M } {
  return {
    serialize: (m) => {
      const msg = t.fromObject(toWire(m))
      return Buffer.from(t.encode(msg).finish())
    },
    deserialize: (b) => fromWire(t.toObject(t.decode(b), TO_OBJECT)),
  }
}

// google.protobuf.Struct <-> JSON. The Struct's Value is a oneof, so only the set member is present
// in the plain object (protobufjs gives oneof members no defaults).
type WireValue = Record<string, unknown>

function valueToJson(v: WireValue): unknown {
  if ('nullValue' in v) return null
  if ('numberValue' in v) return v.numberValue
  if ('stringValue' in v) return v.stringValue
  if ('boolValue' in v) return v.boolValue
  if ('structValue' in v) return structToJson(v.structValue as WireValue)
  if ('listValue' in v) {
    const values = ((v.listValue as WireValue | undefined)?.values as WireValue[] | undefined) ?? []
    return values.map(valueToJson)
  }
  return null
}

function structToJson(s: WireValue | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const fields = (s?.fields as Record<string, WireValue> | undefined) ?? {}
  for (const [k, v] of Object.entries(fields)) out[k] = valueToJson(v)
  return out
}

function jsonToValue(v: unknown): WireValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'bigint') return { numberValue: Number(v) }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } }
  if (typeof v === 'object') return { structValue: jsonToStruct(v as Record<string, unknown>) }
  return { stringValue: String(v) }
}

function jsonToStruct(o: Record<string, unknown>): WireValue {
  const fields: Record<string, WireValue> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) fields[k] = jsonToValue(v)
  return { fields }
}

const codecs = {
  x509SvidRequest: codec<X509SvidRequestMessage>(T.X509SVIDRequest),
  x509SvidResponse: codec<X509SvidResponseMessage>(T.X509SVIDResponse),
  x509BundlesRequest: codec<X509BundlesRequestMessage>(T.X509BundlesRequest),
  x509BundlesResponse: codec<X509BundlesResponseMessage>(T.X509BundlesResponse),
  jwtSvidRequest: codec<JwtSvidRequestMessage>(T.JWTSVIDRequest),
  jwtSvidResponse: codec<JwtSvidResponseMessage>(T.JWTSVIDResponse),
  jwtBundlesRequest: codec<JwtBundlesRequestMessage>(T.JWTBundlesRequest),
  jwtBundlesResponse: codec<JwtBundlesResponseMessage>(T.JWTBundlesResponse),
  validateJwtSvidRequest: codec<ValidateJwtSvidRequestMessage>(T.ValidateJWTSVIDRequest),
  validateJwtSvidResponse: codec<ValidateJwtSvidResponseMessage>(
    T.ValidateJWTSVIDResponse,
    (m) => ({ spiffeId: m.spiffeId, ...(m.claims ? { claims: jsonToStruct(m.claims) } : {}) }),
    (o) => ({
      spiffeId: String(o.spiffeId ?? ''),
      claims: o.claims ? structToJson(o.claims as WireValue) : null,
    }),
  ),
}

function method<Req extends object, Res extends object>(
  name: string,
  responseStream: boolean,
  req: { serialize: (m: Req) => Buffer; deserialize: (b: Buffer) => Req },
  res: { serialize: (m: Res) => Buffer; deserialize: (b: Buffer) => Res },
) {
  return {
    path: `/${WORKLOAD_API_SERVICE_NAME}/${name}`,
    requestStream: false as const,
    responseStream,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
    originalName: name,
  }
}

/**
 * The five Workload API RPCs of the X.509-SVID and JWT-SVID profiles as a `@grpc/grpc-js` service
 * definition over the plain message shapes above (the WIT-SVID RPCs are left out: a server built on it
 * answers them `Unimplemented`, as the spec allows). The keys are the RPC names. Used by the client
 * and by `@svidkit/testing`'s `DevAgent`; use it to write your own Workload API server or fake.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js'
 * import { workloadApiServiceDefinition } from '@svidkit/core/workload-api'
 * const server = new Server()
 * server.addService(workloadApiServiceDefinition, { FetchX509SVID(call) { … }, … })
 * ```
 */
export const workloadApiServiceDefinition = {
  FetchX509SVID: method('FetchX509SVID', true, codecs.x509SvidRequest, codecs.x509SvidResponse),
  FetchX509Bundles: method('FetchX509Bundles', true, codecs.x509BundlesRequest, codecs.x509BundlesResponse),
  FetchJWTSVID: method('FetchJWTSVID', false, codecs.jwtSvidRequest, codecs.jwtSvidResponse),
  FetchJWTBundles: method('FetchJWTBundles', true, codecs.jwtBundlesRequest, codecs.jwtBundlesResponse),
  ValidateJWTSVID: method(
    'ValidateJWTSVID',
    false,
    codecs.validateJwtSvidRequest,
    codecs.validateJwtSvidResponse,
  ),
} satisfies ServiceDefinition

/**
 * The RPC names of {@link workloadApiServiceDefinition}.
 *
 * @example
 * ```ts
 * const rpc: WorkloadApiRpc = 'FetchJWTSVID'
 * workloadApiServiceDefinition[rpc].path // '/SpiffeWorkloadAPI/FetchJWTSVID'
 * ```
 */
export type WorkloadApiRpc = keyof typeof workloadApiServiceDefinition
