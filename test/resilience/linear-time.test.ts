// Point 3, linear time: a 64 KiB XFCC header and a 1,000-element chain are refused in linear time (in
// fact constant: the caps refuse them before any parsing), and where svidkit does parse large input it
// takes time proportional to it. Each check times the same work at two sizes, 16× apart, side by side in
// one run (the median of 5 batches, in CPU time), and requires the growth to stay under 3× linear (48); a quadratic
// path grows 256×. Ratios, not absolute times, so a slower machine does not matter.
import { X509Certificate } from 'node:crypto'
import { X509Bundle } from '@svidkit/core/bundle'
import { isSvidkitError } from '@svidkit/core/errors'
import { MAX_CHAIN_CERTIFICATES, verifyX509Svid } from '@svidkit/core/x509-svid'
import { createXfccExtractor, formatXfcc, parseXfcc } from '@svidkit/core/xfcc'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { signingLoop } from './harness/forge.js'

const LINEAR_SLACK = 3

/** The error code `fn` throws (every check here expects a refusal). */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isSvidkitError(err)) return err.code
    throw err
  }
  return 'OK'
}

/** CPU time of this process so far, in ms (time given to other processes of the machine does not count). */
const cpuNow = (): number => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

/** Median over 5 batches of the CPU time `fn` takes, each batch running it until 20 ms have passed. */
function perCall(fn: () => void): number {
  const batches: number[] = []
  for (let b = 0; b < 5; b++) {
    let n = 0
    const t0 = cpuNow()
    while (cpuNow() - t0 < 20) {
      fn()
      n++
    }
    batches.push((cpuNow() - t0) / n)
  }
  return batches.sort((a, b) => a - b)[2]!
}

/** How much slower `make(16 × size)` is than `make(size)`. */
function growth(
  make: (size: number) => () => void,
  size: number,
): { ratio: number; small: number; large: number } {
  const small = perCall(make(size))
  const large = perCall(make(16 * size))
  const g = { ratio: large / small, small, large }
  console.log(`LINEAR ${JSON.stringify({ test: expect.getState().currentTestName, size, ...g })}`)
  return g
}

/** An XFCC header of whole Envoy elements, at least `bytes` long. */
const xfccHeader = (bytes: number): string => {
  const element = formatXfcc([
    {
      by: ['spiffe://example.org/orders'],
      uri: ['spiffe://example.org/web'],
      subject: ['CN=web,O="Example, Inc."'],
    },
  ])
  return Array.from({ length: Math.ceil(bytes / (element.length + 1)) }, () => element).join(',')
}

let ca: TestCA
let svid: TestX509Svid
beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  svid = await ca.issueX509Svid({ id: '/web' })
})

describe('refused in linear time', () => {
  test('a 64 KiB XFCC header: refused by the 16 KiB limit, whatever its length', () => {
    const xfcc = createXfccExtractor()
    const header = xfccHeader(64 * 1024)
    expect(header.length).toBeGreaterThanOrEqual(64 * 1024)
    expect(codeOf(() => xfcc.extract({ header, peerAddress: '127.0.0.1' }))).toBe('ERR_XFCC_TOO_LARGE')
    const g = growth((size) => {
      const h = xfccHeader(size)
      return () => codeOf(() => xfcc.extract({ header: h, peerAddress: '127.0.0.1' }))
    }, 20 * 1024)
    expect(g.ratio, JSON.stringify(g)).toBeLessThan(16 * LINEAR_SLACK)
  })

  test('a 64 KiB XFCC header with the limit raised: parsed in linear time', () => {
    const g = growth((size) => {
      const h = xfccHeader(size)
      return () => parseXfcc(h, { maxLength: 1 << 22 })
    }, 4 * 1024)
    expect(g.ratio, JSON.stringify(g)).toBeLessThan(16 * LINEAR_SLACK)
  })

  test('a 1,000-element chain: refused by the 16-certificate cap, as objects, PEM and DER', () => {
    const bundles = ca.bundleSet()
    const leaf = svid.certificates[0]!
    const chain = (n: number) => [leaf, ...Array.from({ length: n - 1 }, () => ca.certificate)]
    for (const input of [
      chain(1000),
      chain(1000)
        .map((c) => c.toString())
        .join(''),
      Buffer.concat(chain(1000).map((c) => c.raw)),
    ]) {
      expect(codeOf(() => verifyX509Svid(input, bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
    }
    const g = growth((n) => {
      const pem = chain(n)
        .map((c) => c.toString())
        .join('')
      return () => codeOf(() => verifyX509Svid(pem, bundles))
    }, 60)
    expect(g.ratio, JSON.stringify(g)).toBeLessThan(16 * LINEAR_SLACK)
  })

  test('CA certificates that all sign each other: path building gives up after a bounded search', async () => {
    // Before the bound, 8 such certificates took 5.5 s and 10 took minutes: exponential.
    const loop = await signingLoop('spiffe://example.org/web', MAX_CHAIN_CERTIFICATES - 1)
    expect(codeOf(() => verifyX509Svid(loop, ca.bundleSet()))).toBe('ERR_X509_SVID_UNTRUSTED')
    const small = loop.slice(0, 4).map((c) => new X509Certificate(c.raw))
    const t = {
      small: perCall(() => codeOf(() => verifyX509Svid(small, ca.bundleSet()))),
      large: perCall(() => codeOf(() => verifyX509Svid(loop, ca.bundleSet()))),
    }
    console.log(
      `LINEAR ${JSON.stringify({ test: expect.getState().currentTestName, ratio: t.large / t.small, ...t })}`,
    )
    // 4 → 16 certificates: at most the 100 signature checks of the bound, against ~9 for the small one.
    expect(t.large / t.small, JSON.stringify(t)).toBeLessThan(16 * LINEAR_SLACK)
  })

  test('PEM with BEGIN markers and no END (a bundle file has no size cap): linear', () => {
    const g = growth((n) => {
      const text = '-----BEGIN A-----'.repeat(n)
      return () => codeOf(() => X509Bundle.fromPem('example.org', text))
    }, 4000)
    expect(g.ratio, JSON.stringify(g)).toBeLessThan(16 * LINEAR_SLACK)
  })
})
