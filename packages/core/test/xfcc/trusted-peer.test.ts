import { BlockList } from 'node:net'
import { matchId, matchMemberOf, SpiffeId } from '@svidkit/core/spiffe-id'
import { createXfccExtractor, type TrustedPeerOptions } from '@svidkit/core/xfcc'
import { codeOf } from '@svidkit/testing'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

const HEADER = 'By=spiffe://a.test/api;URI=spiffe://a.test/web'

/** Whether the extractor honours the header from this peer (untrusted → ignored). */
function trusted(
  trustedPeers: TrustedPeerOptions | undefined,
  peerAddress: string | undefined,
  peerSpiffeId?: SpiffeId,
) {
  const x = createXfccExtractor({ trustedPeers, untrustedPeer: 'ignore' })
  return x.extract({ header: HEADER, peerAddress, peerSpiffeId }) !== undefined
}

describe('trusted peers: default loopback only', () => {
  test.each([
    ['127.0.0.1'],
    ['127.255.255.254'],
    ['127.1.2.3'],
    ['::1'],
    ['0:0:0:0:0:0:0:1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:127.9.8.7'],
    ['::ffff:7f00:1'],
    ['0:0:0:0:0:ffff:127.0.0.1'],
    ['::FFFF:127.0.0.1'],
  ])('%s is trusted', (address) => {
    expect(trusted(undefined, address)).toBe(true)
  })

  test.each([
    ['10.0.0.1'],
    ['128.0.0.1'],
    ['126.255.255.255'],
    ['0.0.0.0'],
    ['::'],
    ['::2'],
    ['::ffff:10.0.0.1'],
    ['::127.0.0.1'], // IPv4-compatible (deprecated), not mapped
    ['64:ff9b::7f00:1'], // NAT64 of 127.0.0.1
    ['fe80::1'],
    [''],
    [undefined],
    ['localhost'],
    ['127.0.0.1:8080'],
    ['127.0.0.01'],
    ['127.0.0'],
    ['127.0.0.1.1'],
    ['127.0.0.256'],
    [' 127.0.0.1'],
    ['::1::'],
    ['1:2:3:4:5:6:7:8:9'],
    [':::1'],
    ['::ffff:127.0.0.1.5'],
    ['12345::1'],
    ['::1%'],
  ])('%j is not', (address) => {
    expect(trusted(undefined, address)).toBe(false)
  })
})

describe('trusted peers: configured CIDRs', () => {
  test('IPv4 ranges and single addresses', () => {
    const peers = { addresses: ['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12'] }
    expect(trusted(peers, '10.255.0.1')).toBe(true)
    expect(trusted(peers, '::ffff:10.1.2.3')).toBe(true)
    expect(trusted(peers, '11.0.0.1')).toBe(false)
    expect(trusted(peers, '192.168.1.7')).toBe(true)
    expect(trusted(peers, '192.168.1.8')).toBe(false)
    expect(trusted(peers, '172.31.255.255')).toBe(true)
    expect(trusted(peers, '172.32.0.0')).toBe(false)
    expect(trusted(peers, '127.0.0.1')).toBe(false) // configuring addresses replaces the default
  })

  test('host bits in a range are ignored', () => {
    expect(trusted({ addresses: ['10.1.2.3/8'] }, '10.200.0.1')).toBe(true)
  })

  test('IPv6 ranges', () => {
    const peers = { addresses: ['fd00::/8', '2001:db8::/32', 'fe80::/10'] }
    expect(trusted(peers, 'fd12:3456::1')).toBe(true)
    expect(trusted(peers, 'fc00::1')).toBe(false)
    expect(trusted(peers, '2001:db8:ffff::1')).toBe(true)
    expect(trusted(peers, '2001:db9::1')).toBe(false)
    expect(trusted(peers, 'fe80::1%eth0')).toBe(true) // zone ignored
    expect(trusted(peers, '10.0.0.1')).toBe(false)
  })

  test('an IPv4-mapped range is the IPv4 range', () => {
    const peers = { addresses: ['::ffff:10.0.0.0/104'] }
    expect(trusted(peers, '10.9.9.9')).toBe(true)
    expect(trusted(peers, '::ffff:10.9.9.9')).toBe(true)
    expect(trusted(peers, '11.0.0.1')).toBe(false)
  })

  test('everything', () => {
    const peers = { addresses: ['0.0.0.0/0', '::/0'] }
    for (const a of ['1.2.3.4', '::1', 'abcd::1', '::ffff:8.8.8.8']) expect(trusted(peers, a)).toBe(true)
    expect(trusted({ addresses: ['0.0.0.0/0'] }, 'abcd::1')).toBe(false)
    expect(trusted({ addresses: ['::/0'] }, '1.2.3.4')).toBe(true) // as net.BlockList
  })

  test('no address at all', () => {
    expect(trusted({ addresses: [] }, '127.0.0.1')).toBe(false)
  })
})

describe('trusted peers: the proxy SPIFFE ID', () => {
  const gw = SpiffeId.parse('spiffe://a.test/gateway')
  const other = SpiffeId.parse('spiffe://a.test/other')

  test('either (default): address or ID', () => {
    const peers = { spiffeId: matchId(gw) }
    expect(trusted(peers, '10.0.0.1', gw)).toBe(true)
    expect(trusted(peers, '10.0.0.1', other)).toBe(false)
    expect(trusted(peers, '10.0.0.1')).toBe(false)
    expect(trusted(peers, '127.0.0.1')).toBe(true) // default loopback still applies to a peer without an SVID
    // …but a peer with an SVID of its own is known by it: a trusted address does not make it the proxy.
    expect(trusted(peers, '127.0.0.1', other)).toBe(false)
  })

  test('address only: a peer with an SVID is still trusted by address (no ID to check against)', () => {
    expect(trusted({}, '127.0.0.1', other)).toBe(true)
  })

  test('requireSvid: only a peer that presented the proxy SVID may vouch', () => {
    const peers: TrustedPeerOptions = { spiffeId: matchId(gw), requireSvid: true }
    expect(trusted(peers, '127.0.0.1')).toBe(false)
    expect(trusted(peers, '10.9.9.9', gw)).toBe(true)
    expect(trusted(peers, '127.0.0.1', other)).toBe(false)
    const both: TrustedPeerOptions = { ...peers, addresses: ['10.0.0.0/8'], require: 'both' }
    expect(trusted(both, '10.0.0.1', gw)).toBe(true)
    expect(trusted(both, '127.0.0.1', gw)).toBe(false)
    expect(codeOf(() => createXfccExtractor({ trustedPeers: { requireSvid: true } }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })

  test('ID only', () => {
    const peers = { addresses: [], spiffeId: matchMemberOf('a.test') }
    expect(trusted(peers, '127.0.0.1')).toBe(false)
    expect(trusted(peers, undefined, gw)).toBe(true)
  })

  test('both', () => {
    const peers: TrustedPeerOptions = { addresses: ['10.0.0.0/8'], spiffeId: matchId(gw), require: 'both' }
    expect(trusted(peers, '10.0.0.1', gw)).toBe(true)
    expect(trusted(peers, '10.0.0.1', other)).toBe(false)
    expect(trusted(peers, '10.0.0.1')).toBe(false)
    expect(trusted(peers, '11.0.0.1', gw)).toBe(false)
  })

  test('a throwing matcher means untrusted', () => {
    const throwing = Object.assign(
      () => {
        throw new Error('boom')
      },
      { description: 'throws' },
    )
    expect(trusted({ addresses: [], spiffeId: throwing as never }, undefined, gw)).toBe(false)
  })
})

describe('trusted peers: ignore or reject', () => {
  test('reject is the default', () => {
    const x = createXfccExtractor()
    expect(codeOf(() => x.extract({ header: HEADER, peerAddress: '10.0.0.1' }))).toBe(
      'ERR_XFCC_UNTRUSTED_PEER',
    )
  })

  test('ignore returns no caller', () => {
    const x = createXfccExtractor({ untrustedPeer: 'ignore' })
    expect(x.extract({ header: HEADER, peerAddress: '10.0.0.1' })).toBeUndefined()
  })

  test('an untrusted peer with a malformed header is still just untrusted (not parsed)', () => {
    const x = createXfccExtractor()
    expect(codeOf(() => x.extract({ header: 'X="', peerAddress: '10.0.0.1' }))).toBe(
      'ERR_XFCC_UNTRUSTED_PEER',
    )
  })

  test('no header is no caller, whoever the peer', () => {
    const x = createXfccExtractor()
    for (const header of [undefined, '', []]) {
      expect(x.extract({ header, peerAddress: '10.0.0.1' })).toBeUndefined()
      expect(x.extract({ header, peerAddress: '127.0.0.1' })).toBeUndefined()
    }
  })
})

describe('trusted peers: invalid options', () => {
  test.each([
    ['not an object', 'x'],
    ['addresses not an array', { addresses: '10.0.0.0/8' }],
    ['not an address', { addresses: ['abc'] }],
    ['a host name', { addresses: ['localhost'] }],
    ['prefix too long (v4)', { addresses: ['10.0.0.0/33'] }],
    ['prefix too long (v6)', { addresses: ['::/129'] }],
    ['prefix with a leading zero', { addresses: ['10.0.0.0/08'] }],
    ['empty prefix', { addresses: ['10.0.0.0/'] }],
    ['three octets', { addresses: ['10.0.0/8'] }],
    ['a zone', { addresses: ['fe80::1%eth0'] }],
    ['a number', { addresses: [42] }],
    ['spiffeId not a matcher', { spiffeId: 'spiffe://a.test/x' }],
    ['require unknown', { require: 'all' }],
    ['require both without spiffeId', { require: 'both' }],
    ['require both without addresses', { require: 'both', addresses: [], spiffeId: matchMemberOf('a.test') }],
  ])('%s', (_name, trustedPeers) => {
    expect(codeOf(() => createXfccExtractor({ trustedPeers: trustedPeers as TrustedPeerOptions }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })

  test('untrustedPeer', () => {
    expect(codeOf(() => createXfccExtractor({ untrustedPeer: 'drop' as never }))).toBe('ERR_OPTIONS_INVALID')
  })
})

// Node's own BlockList as the oracle for CIDR matching (too slow per request: ~1.5 µs a check).
describe('trusted peers: agree with net.BlockList', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'))
  const group = fc.nat(0xffff).map((n) => n.toString(16))
  const v6 = fc.array(group, { minLength: 8, maxLength: 8 }).chain((groups) =>
    fc.nat(7).chain((start) =>
      fc.nat(8 - start).map((len) => {
        // Compress a run of groups with "::" (sometimes), as any writer might.
        if (len < 2) return groups.join(':')
        return `${groups.slice(0, start).join(':')}::${groups.slice(start + len).join(':')}`
      }),
    ),
  )
  const near = (base: string[]) => fc.constantFrom(...base)

  test('IPv4 ranges, IPv4 and mapped peers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v4, fc.nat(32)), { minLength: 1, maxLength: 4 }),
        fc.oneof(v4, near(['10.0.0.1', '127.0.0.1', '192.168.0.1'])),
        fc.boolean(),
        (ranges, address, mapped) => {
          const list = new BlockList()
          for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv4')
          const peer = mapped ? `::ffff:${address}` : address
          const expected = list.check(address, 'ipv4')
          expect(trusted({ addresses: ranges.map(([n, p]) => `${n}/${p}`) }, peer)).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('one extractor over a run of addresses answers each as a fresh one would (it remembers the last)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v4, fc.nat(32)), { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(v4, near(['10.0.0.1', '127.0.0.1', '192.168.0.1'])), {
          minLength: 1,
          maxLength: 12,
        }),
        (ranges, addresses) => {
          const list = new BlockList()
          for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv4')
          const x = createXfccExtractor({
            trustedPeers: { addresses: ranges.map(([n, p]) => `${n}/${p}`) },
            untrustedPeer: 'ignore',
          })
          // Repeats, as requests from one proxy come: the same address twice in a row, then others.
          for (const address of addresses.flatMap((a) => [a, a, `${a}`])) {
            const got = x.extract({ header: HEADER, peerAddress: address }) !== undefined
            expect(got).toBe(list.check(address, 'ipv4'))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  test('IPv6 ranges and peers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v6, fc.nat(128)), { minLength: 1, maxLength: 4 }),
        v6,
        (ranges, address) => {
          const list = new BlockList()
          for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv6')
          const expected = list.check(address, 'ipv6')
          expect(trusted({ addresses: ranges.map(([n, p]) => `${n}/${p}`) }, address)).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('IPv4 and mapped peers against IPv6 ranges around the mapped space', () => {
    const mappedRange = fc.tuple(
      fc.constantFrom('::', '::ffff:0:0', '::ffff:a00:0', '::fffe:0:0', '::ffff:7f00:0'),
      fc.constantFrom(0, 64, 80, 95, 96, 100, 104, 112, 128),
    )
    fc.assert(
      fc.property(
        fc.array(mappedRange, { minLength: 1, maxLength: 3 }),
        v4,
        fc.boolean(),
        (ranges, address, mapped) => {
          const list = new BlockList()
          for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv6')
          const peer = mapped ? `::ffff:${address}` : address
          const expected = mapped ? list.check(peer, 'ipv6') : list.check(peer, 'ipv4')
          expect(trusted({ addresses: ranges.map(([n, p]) => `${n}/${p}`) }, peer)).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('a peer inside a range drawn around it', () => {
    fc.assert(
      fc.property(v6, fc.nat(128), (address, prefix) => {
        expect(trusted({ addresses: [`${address}/${prefix}`] }, address)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
