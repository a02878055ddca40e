// Point 3 (soak): 10^6 runs per parser, in two files that `pnpm test:soak` runs side by side (this one:
// chains, JWT-SVIDs, XFCC, SPIFFE IDs, HTTP paths; fuzz-b: policy files, bundles, forwarded certs).
import { fuzzSuite } from '../harness/run-fuzz.js'

fuzzSuite(Number(process.env.FUZZ_RUNS ?? 1_000_000), ['chain', 'jwt-svid', 'xfcc', 'spiffe-id', 'http-path'])
