// Prints core's status table as markdown (for packages/core/README.md), grouped by domain.
// Usage: node scripts/status-table-md.mjs   (needs a build: node scripts/build.mjs)
import { statusTable } from '../packages/core/dist/esm/errors/index.js'

const rows = ['| code | domain | HTTP | `WWW-Authenticate` error | gRPC |', '| --- | --- | --- | --- | --- |']
const grpcName = {
  3: '3 INVALID_ARGUMENT',
  7: '7 PERMISSION_DENIED',
  13: '13 INTERNAL',
  14: '14 UNAVAILABLE',
  16: '16 UNAUTHENTICATED',
}
for (const [code, e] of Object.entries(statusTable)) {
  const challenge = e.bearerError ?? (e.http === 401 ? '(bare `Bearer` challenge)' : '—')
  rows.push(`| \`${code}\` | ${e.domain} | ${e.http} | ${challenge} | ${grpcName[e.grpc]} |`)
}
console.log(rows.join('\n'))
