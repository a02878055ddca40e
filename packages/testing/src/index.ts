/**
 * `@svidkit/testing`: a test CA that issues X.509-SVIDs and JWT-SVIDs (including deliberately
 * broken ones) with bundles in every format, for svidkit's own tests and yours.
 *
 * @example
 * ```ts
 * import { TestCA } from '@svidkit/testing'
 * const ca = await TestCA.create({ trustDomain: 'example.org' })
 * ```
 * @module
 */
import 'reflect-metadata'

export { codeOf } from './code-of.js'
export { DevAgent } from './dev-agent/dev-agent.js'
export { loadDevAgentConfig, parseDevAgentConfig } from './dev-agent/dev-agent-config.js'
export type {
  DevAgentAttestor,
  DevAgentBundleEndpointOptions,
  DevAgentFederation,
  DevAgentIdentity,
  DevAgentOptions,
  DevAgentPeer,
  DevAgentReconfigured,
  DevAgentSocket,
} from './dev-agent/types.js'
export type { TestKeyPair, TestKeyType } from './key-type.js'
export { generateTestKeyPair, importTestKeyPair } from './key-type.js'
export { KeyUsageFlags } from './key-usage-flags.js'
export type {
  IssueX509SvidOptions,
  MintJwtSvidOptions,
  TestCAOptions,
  TestCAState,
  TestX509Svid,
} from './test-ca.js'
export { bundleMapJson, TestCA } from './test-ca.js'
