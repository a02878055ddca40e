// The README stays true: its error table summarises core's statusTable by Connect code (every code it
// names has that gRPC status, which Connect's `Code` numbers the same; every code a client can get as
// 7 or 16 is covered), and the Usage snippet is the one test/types/connect-readme.ts type-checks.
import { Code } from '@connectrpc/connect'
import { grpcReadmeChecks } from '../../../test/e2e/harness/adapter-readme-checks.js'

grpcReadmeChecks(
  new URL('../README.md', import.meta.url),
  new URL('../../../test/types/connect-readme.ts', import.meta.url),
  (status) => Code[status],
)
