/**
 * `@svidkit/nestjs/grpc`: Nest's gRPC transport on `@svidkit/grpc`'s SVID listener, so
 * `SvidkitGuard` gets each call's verified connection (the client's whole chain). Needs
 * `@nestjs/microservices`, `@grpc/grpc-js` and `@svidkit/grpc`.
 *
 * @example
 * ```ts
 * import { SvidGrpcServer } from '@svidkit/nestjs/grpc'
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new SvidGrpcServer({ package: 'orders.v1', protoPath, url: '0.0.0.0:50051' }, { source }),
 * })
 * await app.listen()
 * ```
 * @module
 */
export type { SvidGrpcListenerOptions, SvidGrpcTransportOptions } from './svid-grpc-server.js'
export { SvidGrpcServer } from './svid-grpc-server.js'
