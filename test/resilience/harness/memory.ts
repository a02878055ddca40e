// Garbage collection on demand (no `--expose-gc` needed) and a way to prove that objects are freed.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
/** Runs a full garbage collection. */
export const gc = runInNewContext('gc') as () => void

/** Watches objects and tells which were garbage-collected. */
export class Collected {
  readonly #freed = new Set<string>()
  readonly #registry = new FinalizationRegistry<string>((label) => this.#freed.add(label))
  #watched = 0

  watch(object: object, label: string): void {
    this.#registry.register(object, label)
    this.#watched++
  }

  /** Collects until every watched object is freed (at most ~1 s); returns how many were. */
  async settle(): Promise<number> {
    for (let k = 0; k < 50 && this.#freed.size < this.#watched; k++) {
      gc()
      await new Promise((r) => setTimeout(r, 20))
    }
    return this.#freed.size
  }

  has(label: string): boolean {
    return this.#freed.has(label)
  }
}

/** Heap used after a full collection, in bytes. */
export async function heapAfterGc(): Promise<number> {
  for (let k = 0; k < 3; k++) {
    gc()
    await new Promise((r) => setTimeout(r, 10))
  }
  return process.memoryUsage().heapUsed
}
