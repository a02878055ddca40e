// Types of ledger-api.mjs, for services/payments.ts.
import type { Client } from '@grpc/grpc-js'
import type { JwtSource, X509Source } from '@svidkit/core/workload-api'

export type LedgerClient = Client
export type LedgerMethod = 'getBalance' | 'listEntries' | 'recordEntry'

export type LedgerResult =
  | { code: 0; name: 'OK'; value: Record<string, unknown> }
  | { code: number; name: string; details: string; svidkitCode: string | undefined }

export declare function ledgerMethod(name: string): string
export declare function ledgerClient(options: {
  address: string
  ledgerId: string
  x509: X509Source
  jwt?: JwtSource
}): LedgerClient
export declare function callLedger(
  client: LedgerClient,
  method: LedgerMethod,
  request: Record<string, unknown>,
  options?: { timeoutMs?: number },
): Promise<LedgerResult>
