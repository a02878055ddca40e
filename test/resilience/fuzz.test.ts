// Point 3 (fast part): every parser, 10^4 runs each, only typed errors, each input within its time
// budget (harness/run-fuzz.ts). soak/fuzz.soak.test.ts runs the same targets 10^6 times each.
import { fuzzSuite } from './harness/run-fuzz.js'

fuzzSuite(Number(process.env.FUZZ_RUNS ?? 10_000))
