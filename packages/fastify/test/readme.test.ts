// The @svidkit/fastify README's error table and Usage snippet stay true (see test/e2e/harness/adapter-readme-checks.ts).
import { adapterReadmeChecks } from '../../../test/e2e/harness/adapter-readme-checks.js'

adapterReadmeChecks(
  new URL('../README.md', import.meta.url),
  new URL('../../../test/types/fastify-readme.ts', import.meta.url),
)
