// Point 3 (soak): 10^6 runs per parser (the other half: see fuzz-a.soak.test.ts).
import { fuzzSuite } from '../harness/run-fuzz.js'

fuzzSuite(Number(process.env.FUZZ_RUNS ?? 1_000_000), ['policy', 'bundle', 'forwarded-cert'])
