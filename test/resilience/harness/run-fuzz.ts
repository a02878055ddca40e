// Runs every fuzz target (fuzz-targets.ts) `runs` times, each input within its time budget: 100 ms
// of CPU time plus `msPerKiB` (default 1) per KiB of input, the best of three timings (the last two
// after a full GC) when the first is over. A linear parser uses a small share of that on any
// input; a quadratic path on the long inputs mixed in (up to 256 KiB) exceeds it. Every target prints
// one `FUZZ {json}` line (runs, seconds, slowest input, worst share of the budget) for the README.
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { type FuzzTarget, type FuzzTargetId, fuzzMaterial, fuzzTargets } from './fuzz-targets.js'
import { gc } from './memory.js'

/** Input size in characters (bytes for binary input), summed over arrays and tuples. */
export function sizeOf(input: unknown): number {
  if (typeof input === 'string') return input.length
  if (input instanceof Uint8Array) return input.byteLength
  if (Array.isArray(input)) return input.reduce((n: number, x) => n + sizeOf(x), 0)
  return 0
}

const ALL: readonly FuzzTargetId[] = [
  'spiffe-id',
  'bundle',
  'chain',
  'jwt-svid',
  'xfcc',
  'forwarded-cert',
  'policy',
  'http-path',
]

/**
 * The CPU time `fn` takes, in ms: user + system time of this process, so that time the machine
 * (shared, 2 cores) gives to other processes does not count.
 */
export function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage()
  fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}

/** Fuzzes the targets `ids` (default all), `runs` runs each. */
export function fuzzSuite(runs: number, ids: readonly FuzzTargetId[] = ALL): void {
  let targets: readonly FuzzTarget[]
  beforeAll(async () => {
    // About 500 long inputs per target, in the fast part and in the soak.
    targets = fuzzTargets(await fuzzMaterial(), { longEvery: Math.max(20, Math.round(runs / 500)) })
  })

  describe(`fuzzing, ${runs} runs per parser`, () => {
    test.each(ids)('%s', (id) => {
      const target = targets.find((t) => t.id === id)!
      const perKiB = target.msPerKiB ?? 1
      let slowest = 0
      let slowestSize = 0
      let worst = 0
      const started = performance.now()
      fc.assert(
        fc.property(target.arbitrary, (input) => {
          let ms = cpuMs(() => target.run(input))
          const size = sizeOf(input)
          const budget = 100 + (perKiB * size) / 1024
          // A garbage collection can stretch one run: an input over budget is timed twice more, each
          // time right after a full collection, and the best time counts.
          for (let k = 0; k < 2 && ms > budget; k++) {
            gc()
            ms = Math.min(
              ms,
              cpuMs(() => target.run(input)),
            )
          }
          if (ms > slowest) {
            slowest = ms
            slowestSize = size
          }
          worst = Math.max(worst, ms / budget)
          if (ms > budget) {
            throw new Error(
              `one input of ${size} characters took ${ms.toFixed(0)} ms (budget ${budget.toFixed(0)} ms)`,
            )
          }
        }),
        { numRuns: runs, endOnFailure: true },
      )
      const seconds = (performance.now() - started) / 1000
      console.log(
        `FUZZ ${JSON.stringify({ target: target.name, runs, seconds: +seconds.toFixed(1), slowestMs: +slowest.toFixed(1), slowestSize, worstBudgetShare: +worst.toFixed(3) })}`,
      )
      expect(worst).toBeLessThanOrEqual(1)
    })
  })
}
