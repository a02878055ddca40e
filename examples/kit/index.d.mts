// Types of index.mjs, for the TypeScript tests that use the kit (test/e2e/readme-snippets.test.ts).

/** The workloads of every example. */
export declare const workloads: { readonly orders: string; readonly web: string; readonly batch: string }

/** A started example: its URL, the server's output, one call as a caller, and teardown. */
export interface StartedExample {
  readonly url: string
  output(): string
  call(caller: 'web' | 'batch', path: string): Promise<{ status: number; body: unknown }>
  close(): Promise<void>
}

export declare function buildPackages(): void
export declare function startExample(
  serverFile: URL,
  options?: { auditLog?: string },
): Promise<StartedExample>
export declare function runExample(serverFile: URL, path: string): Promise<void>
