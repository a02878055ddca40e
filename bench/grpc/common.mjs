// What the gRPC benchmark server, load client and runner share: the configurations and the JSON "Echo"
// service (no protobuf: every configuration pays the same (de)serialization). The fixture (CA, SVIDs,
// JWT-SVID) is the HTTP benchmark's (../http/fixture.mjs).
/**
 * The configurations, in the order they run (the start rotates each round):
 * - `bare-mtls`: grpc-js `ServerCredentials.createSsl(ca, [pair], true)`, OpenSSL's CA check, no interceptor;
 * - `noop-interceptor`: bare-mtls plus an interceptor that only passes every call on (what any grpc-js
 *   server interceptor costs by itself);
 * - `authctx`: bare-mtls plus an interceptor that only calls `call.getAuthContext()` per call;
 * - `svidkit-mtls`: serveSvid (peer verified once per connection, in the handshake) + svidInterceptor,
 *   the handler reading `callerOf(call)`;
 * - `svidkit-jwt`: the same, with the jwt channel on: every call's JWT-SVID is verified (cache warm)
 *   and must name the same workload as the certificate.
 */
export const CONFIGS = ['bare-mtls', 'noop-interceptor', 'authctx', 'svidkit-mtls', 'svidkit-jwt']

export const SERVICE = 'bench.Echo'
export const METHOD = `/${SERVICE}/Unary`
const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString('utf8')),
}
export const ECHO = {
  unary: {
    path: METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
}
export const REQUEST = { id: 42 }
export const REPLY = { id: 42, item: 'a blue teapot' }
