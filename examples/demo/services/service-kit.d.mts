// Types of service-kit.mjs, for services/payments.ts.
import type { Auditor } from '@svidkit/core/audit'
import type { JwtBundleSource, X509BundleSource } from '@svidkit/core/bundle'
import type { JwtSource, X509Source } from '@svidkit/core/workload-api'

export declare const IDENTITY_TEMPLATE: string
export declare const NGINX_ID: string
export declare const NGINX_SOURCE_ADDRESS: string
export declare const AUDIT_DIR: URL

export interface WorkloadIdentity {
  x509: X509Source
  jwt: JwtSource
  bundles: X509BundleSource & JwtBundleSource
  selfId: string
  svidInfo(): { id: string; serial: string; expiresAt: Date }
  trustDomains(): string[]
}

export declare function report(message: { type: string } & Record<string, unknown>): void
export declare function workloadIdentity(service: string): Promise<WorkloadIdentity>
export declare function demoAuditor(service: string): Auditor
export declare function closeOnExit(close: () => Promise<void>): void
