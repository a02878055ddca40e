// The README stays true: its error table summarises core's statusTable (every code it names has the
// status and challenge of its row; every 400/401/403 code is covered), and the Usage snippet is the one
// test/types/nestjs-readme.ts type-checks.
import { adapterReadmeChecks } from '../../../test/e2e/harness/adapter-readme-checks.js'

adapterReadmeChecks(
  new URL('../README.md', import.meta.url),
  new URL('../../../test/types/nestjs-readme.ts', import.meta.url),
)
