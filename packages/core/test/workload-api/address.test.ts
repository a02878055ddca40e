import { SvidkitError } from '@svidkit/core/errors'
import {
  parseWorkloadApiAddress,
  resolveWorkloadApiAddress,
  SPIFFE_ENDPOINT_SOCKET,
  WorkloadApiClient,
} from '@svidkit/core/workload-api'
import { describe, expect, test } from 'vitest'

const errorOf = (fn: () => unknown): SvidkitError => {
  try {
    fn()
  } catch (err) {
    if (err instanceof SvidkitError) return err
    throw err
  }
  throw new Error('expected an error')
}

// spiffe/go-spiffe workloadapi/addr_test.go + addr_posix_test.go (TestValidateAddress).
const goVectors: [address: string, error: string][] = [
  ['\t', 'net/url: invalid control character in URL'],
  ['blah', 'workload endpoint socket URI must have a "tcp" or "unix" scheme'],
  ['tcp:opaque', 'workload endpoint tcp socket URI must not be opaque'],
  ['tcp://', 'workload endpoint tcp socket URI must include a host'],
  ['tcp://1.2.3.4:5?whatever', 'workload endpoint tcp socket URI must not include query values'],
  ['tcp://1.2.3.4:5#whatever', 'workload endpoint tcp socket URI must not include a fragment'],
  ['tcp://john:doe@1.2.3.4:5/path', 'workload endpoint tcp socket URI must not include user info'],
  ['tcp://1.2.3.4:5/path', 'workload endpoint tcp socket URI must not include a path'],
  ['tcp://foo', 'workload endpoint tcp socket URI host component must be an IP:port'],
  ['tcp://1.2.3.4', 'workload endpoint tcp socket URI host component must include a port'],
  ['tcp://1.2.3.4:5', ''],
  ['unix:opaque', 'workload endpoint unix socket URI must not be opaque'],
  ['unix://', 'workload endpoint unix socket URI must include a path'],
  ['unix://foo?whatever', 'workload endpoint unix socket URI must not include query values'],
  ['unix://foo#whatever', 'workload endpoint unix socket URI must not include a fragment'],
  ['unix://john:doe@foo/path', 'workload endpoint unix socket URI must not include user info'],
]

describe('parseWorkloadApiAddress: go-spiffe addr_test.go vectors', () => {
  test.each(goVectors)('%j', (address, expected) => {
    if (expected === '') {
      expect(() => parseWorkloadApiAddress(address)).not.toThrow()
      return
    }
    const err = errorOf(() => parseWorkloadApiAddress(address))
    expect(err.code).toBe('ERR_WORKLOAD_API_ADDRESS_INVALID')
    expect(err.message).toContain(expected)
  })

  test('unix://foo: accepted by go-spiffe, rejected here (the authority MUST NOT be set)', () => {
    const err = errorOf(() => parseWorkloadApiAddress('unix://foo'))
    expect(err.code).toBe('ERR_WORKLOAD_API_ADDRESS_INVALID')
    expect(err.message).toContain('must not include an authority')
    expect(errorOf(() => parseWorkloadApiAddress('unix://foo/bar.sock')).code).toBe(
      'ERR_WORKLOAD_API_ADDRESS_INVALID',
    )
  })
})

describe('parseWorkloadApiAddress: accepted forms', () => {
  test('unix:///abs and unix:/abs, percent-decoded', () => {
    const a = parseWorkloadApiAddress('unix:///run/spire/agent.sock')
    expect(a).toMatchObject({
      network: 'unix',
      path: '/run/spire/agent.sock',
      grpcTarget: 'unix:/run/spire/agent.sock',
    })
    expect(parseWorkloadApiAddress('unix:/tmp/a.sock')).toMatchObject({
      network: 'unix',
      path: '/tmp/a.sock',
    })
    expect(parseWorkloadApiAddress('unix:///tmp/with%20space.sock')).toMatchObject({
      path: '/tmp/with space.sock',
    })
    expect(parseWorkloadApiAddress('UNIX:///tmp/a.sock')).toMatchObject({ network: 'unix' })
  })

  test('tcp://IPv4:port and tcp://[IPv6]:port; DNS names and bad ports are refused', () => {
    expect(parseWorkloadApiAddress('tcp://127.0.0.1:8081')).toMatchObject({
      network: 'tcp',
      host: '127.0.0.1',
      port: 8081,
      grpcTarget: 'ipv4:127.0.0.1:8081',
    })
    expect(parseWorkloadApiAddress('tcp://[::1]:8081')).toMatchObject({
      host: '::1',
      grpcTarget: 'ipv6:[::1]:8081',
    })
    expect(errorOf(() => parseWorkloadApiAddress('tcp://localhost:8081')).message).toContain(
      'must be an IP:port',
    )
    expect(errorOf(() => parseWorkloadApiAddress('tcp://127.0.0.1:99999')).message).toContain('invalid port')
    expect(errorOf(() => parseWorkloadApiAddress('tcp://127.0.0.1:')).message).toContain(
      'must include a port',
    )
  })

  test('other schemes are refused', () => {
    for (const a of ['http://127.0.0.1:80', 'npipe:foo', '/tmp/agent.sock', '']) {
      expect(errorOf(() => parseWorkloadApiAddress(a)).code).toBe('ERR_WORKLOAD_API_ADDRESS_INVALID')
    }
  })
})

describe('resolveWorkloadApiAddress', () => {
  test('explicit address first, then SPIFFE_ENDPOINT_SOCKET', () => {
    const env = { [SPIFFE_ENDPOINT_SOCKET]: 'unix:///from/env.sock' }
    expect(resolveWorkloadApiAddress('unix:///explicit.sock', env).address).toBe('unix:///explicit.sock')
    expect(resolveWorkloadApiAddress(undefined, env).address).toBe('unix:///from/env.sock')
  })

  test('neither: ERR_WORKLOAD_API_ADDRESS_MISSING naming the variable', () => {
    const err = errorOf(() => resolveWorkloadApiAddress(undefined, {}))
    expect(err.code).toBe('ERR_WORKLOAD_API_ADDRESS_MISSING')
    expect(err.message).toContain('SPIFFE_ENDPOINT_SOCKET')
    expect(errorOf(() => resolveWorkloadApiAddress('', { [SPIFFE_ENDPOINT_SOCKET]: '' })).code).toBe(
      'ERR_WORKLOAD_API_ADDRESS_MISSING',
    )
  })

  test('a bad env value is reported as invalid', () => {
    expect(
      errorOf(() => resolveWorkloadApiAddress(undefined, { [SPIFFE_ENDPOINT_SOCKET]: 'unix://x' })).code,
    ).toBe('ERR_WORKLOAD_API_ADDRESS_INVALID')
  })

  test('WorkloadApiClient validates eagerly and reads the env var', () => {
    const saved = process.env[SPIFFE_ENDPOINT_SOCKET]
    try {
      delete process.env[SPIFFE_ENDPOINT_SOCKET]
      expect(errorOf(() => new WorkloadApiClient()).code).toBe('ERR_WORKLOAD_API_ADDRESS_MISSING')
      process.env[SPIFFE_ENDPOINT_SOCKET] = 'tcp://127.0.0.1:1'
      const c = new WorkloadApiClient()
      expect(c.address.address).toBe('tcp://127.0.0.1:1')
      c.close()
      expect(errorOf(() => new WorkloadApiClient({ address: 'tcp://example.org:1' })).code).toBe(
        'ERR_WORKLOAD_API_ADDRESS_INVALID',
      )
    } finally {
      if (saved === undefined) delete process.env[SPIFFE_ENDPOINT_SOCKET]
      else process.env[SPIFFE_ENDPOINT_SOCKET] = saved
    }
  })
})
