// The README stays true: its error table summarises core's statusTable by gRPC status (every code it
// names has that status; every code a client can get as 7 or 16 is covered), and the Usage snippet
// is the one test/types/grpc-readme.ts type-checks.
import { status } from '@grpc/grpc-js'
import { grpcReadmeChecks } from '../../../test/e2e/harness/adapter-readme-checks.js'

grpcReadmeChecks(
  new URL('../README.md', import.meta.url),
  new URL('../../../test/types/grpc-readme.ts', import.meta.url),
  (code) => status[code],
)
