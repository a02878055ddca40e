import { XfccError } from '@svidkit/core/errors'
import { DEFAULT_XFCC_MAX_LENGTH, parseXfcc, type XfccElement } from '@svidkit/core/xfcc'
import { codeOf } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'
import { plain } from './helpers.js'

type Expected = Record<string, string[]>[] | string

// Conformance vectors, written from the cases of Envoy's conn_manager_utility_test.cc (CMUT),
// xfcc_integration_test (IT), xfcc_value_test.cc and its fuzz corpus (XFV), the headers.rst examples
// (DOC), Istio's docs and waypoint template (ISTIO), and alecholmes/xfccparser's parser_test.go (XP).
// An expected string is the error code.
const HASH = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688'
const ISTIO_HASH = '20afebed6da091c850264cc751b8c9306abac02993f80bdb76282237422bd098'
const CMUT_SET =
  'By=test://foo.com/be;By=http://backend.foo.com;Hash=abcdefg;URI=test://foo.com/fe;URI=http://frontend.foo.com;' +
  'Cert="%3D%3Dabc%0Ade%3D";Chain="%3D%3Dabc%0Ade%3D%3D%3Dlmn%0Aop%3D";DNS=www.example.com'
const CMUT_SET_ELEMENT = {
  by: ['test://foo.com/be', 'http://backend.foo.com'],
  hash: ['abcdefg'],
  uri: ['test://foo.com/fe', 'http://frontend.foo.com'],
  cert: ['%3D%3Dabc%0Ade%3D'],
  chain: ['%3D%3Dabc%0Ade%3D%3D%3Dlmn%0Aop%3D'],
  dns: ['www.example.com'],
}
const LYFT_SUBJECT =
  'emailAddress=frontend-team@lyft.com,CN=Test Frontend Team,OU=Lyft Engineering,O=Lyft,L=San Francisco,ST=California,C=US'

const conformance: [string, string, Expected][] = [
  // CMUT
  [
    'CMUT MtlsSanitizeClientCert input',
    'By=test;URI=abc;DNS=example.com',
    [{ by: ['test'], uri: ['abc'], dns: ['example.com'] }],
  ],
  [
    'CMUT MtlsForwardOnlyClientCert input',
    'By=test://foo.com/fe;URI=test://bar.com/be;DNS=example.com',
    [{ by: ['test://foo.com/fe'], uri: ['test://bar.com/be'], dns: ['example.com'] }],
  ],
  [
    'CMUT MtlsSetForwardClientCert output (repeated By and URI, quoted Cert/Chain)',
    CMUT_SET,
    [CMUT_SET_ELEMENT],
  ],
  [
    'CMUT MtlsAppendForwardClientCert output (two elements, repeated DNS)',
    `By=test://foo.com/fe;By=http://frontend.foo.com;URI=test://bar.com/be;DNS=test.com;DNS=test.com,${CMUT_SET}`,
    [
      {
        by: ['test://foo.com/fe', 'http://frontend.foo.com'],
        uri: ['test://bar.com/be'],
        dns: ['test.com', 'test.com'],
      },
      CMUT_SET_ELEMENT,
    ],
  ],
  [
    'CMUT MtlsAppendForwardClientCertLocalSanEmpty output (appended element has no By)',
    'By=test://foo.com/fe;Hash=xyz;URI=test://bar.com/be,Hash=abcdefg;URI=test://foo.com/fe',
    [
      { by: ['test://foo.com/fe'], hash: ['xyz'], uri: ['test://bar.com/be'] },
      { hash: ['abcdefg'], uri: ['test://foo.com/fe'] },
    ],
  ],
  [
    'CMUT MtlsSanitizeSetClientCert output (slash-form Subject, unencoded Cert/Chain)',
    'By=test://foo.com/be;By=http://backend.foo.com;Hash=abcdefg;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=test.lyft.com";' +
      'URI=test://foo.com/fe;URI=http://frontend.foo.com;Cert="abcde=";Chain="abcde=lmnop="',
    [
      {
        by: ['test://foo.com/be', 'http://backend.foo.com'],
        hash: ['abcdefg'],
        subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=test.lyft.com'],
        uri: ['test://foo.com/fe', 'http://frontend.foo.com'],
        cert: ['abcde='],
        chain: ['abcde=lmnop='],
      },
    ],
  ],
  [
    'CMUT MtlsSanitizeSetClientCertPeerSanEmpty output (bare URI=)',
    'By=test://foo.com/be;Hash=abcdefg;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=test.lyft.com";URI=',
    [
      {
        by: ['test://foo.com/be'],
        hash: ['abcdefg'],
        subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=test.lyft.com'],
        uri: [''],
      },
    ],
  ],
  ['CMUT TlsSanitizeClientCertWhenForward input', 'By=test;URI=abc', [{ by: ['test'], uri: ['abc'] }]],
  // IT
  [
    'IT MtlsAppendForward with Subject, URI and DNS (RFC 2253 subject with commas)',
    `By=spiffe://lyft.com/frontend;Hash=123456;URI=spiffe://lyft.com/testclient,By=spiffe://lyft.com/backend-team;Hash=${HASH};` +
      `Subject="${LYFT_SUBJECT}";URI=spiffe://lyft.com/frontend-team;DNS=lyft.com;DNS=www.lyft.com`,
    [
      { by: ['spiffe://lyft.com/frontend'], hash: ['123456'], uri: ['spiffe://lyft.com/testclient'] },
      {
        by: ['spiffe://lyft.com/backend-team'],
        hash: [HASH],
        subject: [LYFT_SUBJECT],
        uri: ['spiffe://lyft.com/frontend-team'],
        dns: ['lyft.com', 'www.lyft.com'],
      },
    ],
  ],
  [
    'IT legacy keys BY and SAN (kept; SAN as an unknown key)',
    'BY=spiffe://lyft.com/frontend;Hash=123456;SAN=spiffe://lyft.com/testclient',
    [{ by: ['spiffe://lyft.com/frontend'], hash: ['123456'], san: ['spiffe://lyft.com/testclient'] }],
  ],
  // XFV
  [
    'XFV normal value',
    'By=test;URI=abc;DNS=example.com',
    [{ by: ['test'], uri: ['abc'], dns: ['example.com'] }],
  ],
  [
    'XFV special characters in a quoted value',
    'By=test;URI="a,b,c;\\"e;f;g=x";DNS=example.com',
    [{ by: ['test'], uri: ['a,b,c;"e;f;g=x'], dns: ['example.com'] }],
  ],
  [
    'XFV multiple elements',
    'By=test;DNS=example.com,By=test;URI="a,b,c;\\"e;f;g=x";DNS=example.com',
    [
      { by: ['test'], dns: ['example.com'] },
      { by: ['test'], uri: ['a,b,c;"e;f;g=x'], dns: ['example.com'] },
    ],
  ],
  [
    'XFV escaped backslash',
    'By=test;DNS=example.com,By=test;URI="\\\\";DNS=example.com',
    [
      { by: ['test'], dns: ['example.com'] },
      { by: ['test'], uri: ['\\'], dns: ['example.com'] },
    ],
  ],
  [
    'XFV escaped backslash then escaped quote',
    'By=test;DNS=example.com,By=test;URI="\\\\\\"";DNS=example.com',
    [
      { by: ['test'], dns: ['example.com'] },
      { by: ['test'], uri: ['\\"'], dns: ['example.com'] },
    ],
  ],
  ['XFV unclosed quote', 'By=test;URI="abc;DNS=example.com', 'ERR_XFCC_MALFORMED'],
  [
    'XFV no URI key (parses; selection fails later)',
    'By=test;DNS=example.com',
    [{ by: ['test'], dns: ['example.com'] }],
  ],
  ['XFV fuzz corpus', 'URI="abc,=,";DNS=example.com', [{ uri: ['abc,=,'], dns: ['example.com'] }]],
  // DOC
  [
    'DOC one client certificate with a URI SAN',
    `By=http://frontend.lyft.com;Hash=${HASH};Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com`,
    [
      {
        by: ['http://frontend.lyft.com'],
        hash: [HASH],
        subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        uri: ['http://testclient.lyft.com'],
      },
    ],
  ],
  [
    'DOC two client certificates',
    `By=http://frontend.lyft.com;Hash=${HASH};URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com`,
    [
      { by: ['http://frontend.lyft.com'], hash: [HASH], uri: ['http://testclient.lyft.com'] },
      {
        by: ['http://backend.lyft.com'],
        hash: ['9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e'],
        uri: ['http://frontend.lyft.com'],
      },
    ],
  ],
  [
    'DOC URI and DNS SANs',
    `By=http://frontend.lyft.com;Hash=${HASH};Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com`,
    [
      {
        by: ['http://frontend.lyft.com'],
        hash: [HASH],
        subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        uri: ['http://testclient.lyft.com'],
        dns: ['lyft.com', 'www.lyft.com'],
      },
    ],
  ],
  // ISTIO
  [
    'ISTIO sidecar inbound (empty quoted Subject)',
    `By=spiffe://cluster.local/ns/default/sa/default;Hash=${ISTIO_HASH};Subject="";URI=spiffe://cluster.local/ns/default/sa/default`,
    [
      {
        by: ['spiffe://cluster.local/ns/default/sa/default'],
        hash: [ISTIO_HASH],
        subject: [''],
        uri: ['spiffe://cluster.local/ns/default/sa/default'],
      },
    ],
  ],
  [
    'ISTIO ambient waypoint (no Hash)',
    'By=spiffe://cluster.local/ns/foo/sa/httpbin;URI=spiffe://cluster.local/ns/foo/sa/curl',
    [{ by: ['spiffe://cluster.local/ns/foo/sa/httpbin'], uri: ['spiffe://cluster.local/ns/foo/sa/curl'] }],
  ],
  // XP
  ['XP empty header', '', []],
  [
    'XP two elements, RFC 2253 escaped comma kept, repeated URI',
    'Hash=hash;Cert="-----BEGIN%20CERTIFICATE-----%0cert%0A-----END%20CERTIFICATE-----%0A";Subject="CN=hello,OU=hello,O=Acme\\, Inc.";' +
      'DNS=hello.west.example.com;DNS=hello.east.example.com,By=spiffe://mesh.example.com/ns/hellons/sa/hellosa;Hash=again;Subject="";' +
      'URI=spiffe://mesh.example.com/ns/otherns/sa/othersa;URI=spiffe://mesh.example.com/ns/otherns/sa2/othersa2',
    [
      {
        hash: ['hash'],
        cert: ['-----BEGIN%20CERTIFICATE-----%0cert%0A-----END%20CERTIFICATE-----%0A'],
        subject: ['CN=hello,OU=hello,O=Acme\\, Inc.'],
        dns: ['hello.west.example.com', 'hello.east.example.com'],
      },
      {
        by: ['spiffe://mesh.example.com/ns/hellons/sa/hellosa'],
        hash: ['again'],
        subject: [''],
        uri: [
          'spiffe://mesh.example.com/ns/otherns/sa/othersa',
          'spiffe://mesh.example.com/ns/otherns/sa2/othersa2',
        ],
      },
    ],
  ],
  ['XP pair without "="', 'Hash', 'ERR_XFCC_MALFORMED'],
  ['XP second pair without "="', 'Hash=;Hash', 'ERR_XFCC_MALFORMED'],
  ['XP unknown key (kept here; xfccparser rejects it)', 'unknown=hello', [{ unknown: ['hello'] }]],
  ['XP Subject is opaque (xfccparser rejects it)', 'Subject="random=hello"', [{ subject: ['random=hello'] }]],
  // Known pitfalls
  [
    'envoy#32945: unquoted By with ";" is malformed, not silently re-split',
    'By=urn:abc:servicePrincipal(grpc-sample-service;None;i001);URI=spiffe://a.test/b',
    'ERR_XFCC_MALFORMED',
  ],
  [
    'envoy#9889: unknown attribute printed as #hex stays opaque',
    'Subject="CN=x,1.2.3.4=#0403616263";URI=spiffe://a.test/b',
    [{ subject: ['CN=x,1.2.3.4=#0403616263'], uri: ['spiffe://a.test/b'] }],
  ],
  [
    'Envoy Issuer key (newer Envoy) is kept',
    'Hash=ab;Issuer="CN=ca,O=x";URI=spiffe://a.test/b',
    [{ hash: ['ab'], issuer: ['CN=ca,O=x'], uri: ['spiffe://a.test/b'] }],
  ],
]

const grammar: [string, string | string[], Expected][] = [
  ['keys are case-insensitive and accumulate', 'by=a;BY=b;By=c;uRi=d', [{ by: ['a', 'b', 'c'], uri: ['d'] }]],
  [
    'blanks around elements, keys and unquoted values are ignored',
    '  By=a ; URI = b \t,\tBy=c;URI=d  ',
    [
      { by: ['a'], uri: ['b'] },
      { by: ['c'], uri: ['d'] },
    ],
  ],
  ['blanks inside quotes are kept', 'Subject="  a b  "', [{ subject: ['  a b  '] }]],
  ['inner blanks of an unquoted value are kept', 'Subject=a b', [{ subject: ['a b'] }]],
  [
    'Node\'s ", " join of two header lines',
    'By=a;URI=b, By=c;URI=d',
    [
      { by: ['a'], uri: ['b'] },
      { by: ['c'], uri: ['d'] },
    ],
  ],
  [
    'headersDistinct lines are concatenated',
    ['By=a;URI=b', 'By=c;URI=d'],
    [
      { by: ['a'], uri: ['b'] },
      { by: ['c'], uri: ['d'] },
    ],
  ],
  [
    'a line may hold several elements',
    ['By=a;URI=b,By=c;URI=d', 'By=e'],
    [{ by: ['a'], uri: ['b'] }, { by: ['c'], uri: ['d'] }, { by: ['e'] }],
  ],
  ['empty and blank lines have no element', ['', 'By=a', '  '], [{ by: ['a'] }]],
  ['no line', [], []],
  ['a blank header has no element', '  \t ', []],
  ['a quote cannot span two lines', ['Subject="a', 'b"'], 'ERR_XFCC_MALFORMED'],
  ['while the joined form is one quoted value', 'Subject="a, b"', [{ subject: ['a, b'] }]],
  [
    '"=" inside an unquoted value (Envoy splits at the first "=")',
    'Hash=ab==;X=a=b',
    [{ hash: ['ab=='], x: ['a=b'] }],
  ],
  ['an empty value', 'URI=;DNS=', [{ uri: [''], dns: [''] }]],
  ['an empty quoted value', 'Subject=""', [{ subject: [''] }]],
  [
    'only \\" and \\\\ are unescaped; RFC 2253 escapes are kept',
    'Subject="CN=a\\,b\\+c\\;d\\<e"',
    [{ subject: ['CN=a\\,b\\+c\\;d\\<e'] }],
  ],
  ['escapes are also undone in an unquoted value, as Envoy does', 'X=a\\"b\\\\c\\d', [{ x: ['a"b\\c\\d'] }]],
  ['a trailing backslash in an unquoted value is kept', 'X=ab\\', [{ x: ['ab\\'] }]],
  ['\\, outside quotes still separates (only quotes protect)', 'X=a\\,Y=b', [{ x: ['a\\'] }, { y: ['b'] }]],
  ['an escaped quote does not close', 'X="a\\";Y=b"', [{ x: ['a";Y=b'] }]],
  ['an even run of backslashes before a quote closes it', 'X="a\\\\";Y=b', [{ x: ['a\\'], y: ['b'] }]],
  ['an odd run does not', 'X="a\\\\\\";Y=b"', [{ x: ['a\\";Y=b'] }]],
  ['tab inside a quoted value', 'Subject="a\tb"', [{ subject: ['a\tb'] }]],
  [
    'non-ASCII values are kept',
    'Subject="CN=Jürgen Müller,O=Ümlaut ✓"',
    [{ subject: ['CN=Jürgen Müller,O=Ümlaut ✓'] }],
  ],
  [
    'latin1 bytes as Node decodes obs-text',
    'Subject="CN=J\u00c3\u00bcrgen"',
    [{ subject: ['CN=J\u00c3\u00bcrgen'] }],
  ],
  ['token punctuation in keys', "x-a.b_c!#$%&'*+^`|~=1", [{ "x-a.b_c!#$%&'*+^`|~": ['1'] }]],
  [
    '__proto__ and constructor are ordinary keys',
    '__proto__=a;constructor=b',
    [
      Object.fromEntries([
        ['__proto__', ['a']],
        ['constructor', ['b']],
      ]),
    ],
  ],
  // Malformed
  ['empty element between commas', 'A=b,,C=d', 'ERR_XFCC_MALFORMED'],
  ['blank element between commas', 'A=b, ,C=d', 'ERR_XFCC_MALFORMED'],
  ['leading comma', ',A=b', 'ERR_XFCC_MALFORMED'],
  ['trailing comma', 'A=b,', 'ERR_XFCC_MALFORMED'],
  ['trailing comma and blank', 'A=b, ', 'ERR_XFCC_MALFORMED'],
  ['lone comma', ',', 'ERR_XFCC_MALFORMED'],
  ['empty pair', 'A=b;;C=d', 'ERR_XFCC_MALFORMED'],
  ['trailing semicolon', 'A=b;', 'ERR_XFCC_MALFORMED'],
  ['leading semicolon', ';A=b', 'ERR_XFCC_MALFORMED'],
  ['semicolon before comma', 'A=b;,C=d', 'ERR_XFCC_MALFORMED'],
  ['empty key', '=b', 'ERR_XFCC_MALFORMED'],
  ['blank in a key', 'A B=c', 'ERR_XFCC_MALFORMED'],
  ['quoted key', '"A"=b', 'ERR_XFCC_MALFORMED'],
  ['non-ASCII key', 'Ü=b', 'ERR_XFCC_MALFORMED'],
  ['text after a closing quote', 'Subject="a"b;URI=c', 'ERR_XFCC_MALFORMED'],
  ['second quoted string', 'Subject="a""b"', 'ERR_XFCC_MALFORMED'],
  ['bare quote inside an unquoted value', 'A=a"b;C=d"', 'ERR_XFCC_MALFORMED'],
  ['unmatched quote at the end', 'A="', 'ERR_XFCC_MALFORMED'],
  ['a quote escaped at the end of the header', 'A="abc\\"', 'ERR_XFCC_MALFORMED'],
  ['NUL in a value', 'A=a\u0000b', 'ERR_XFCC_MALFORMED'],
  ['LF in a quoted value', 'A="a\nb"', 'ERR_XFCC_MALFORMED'],
  ['CR in an unquoted value', 'A=a\rb', 'ERR_XFCC_MALFORMED'],
  ['DEL in a value', 'A=a\u007fb', 'ERR_XFCC_MALFORMED'],
  ['escape then control character', 'A="a\\\u0001"', 'ERR_XFCC_MALFORMED'],
]

describe('parseXfcc: conformance vectors', () => {
  test.each(conformance)('%s', (_name, header, expected) => {
    if (typeof expected === 'string') expect(codeOf(() => parseXfcc(header))).toBe(expected)
    else expect(plain(parseXfcc(header))).toEqual(expected)
  })
})

describe('parseXfcc: grammar decisions', () => {
  test.each(grammar)('%s', (_name, header, expected) => {
    if (typeof expected === 'string') expect(codeOf(() => parseXfcc(header))).toBe(expected)
    else expect(plain(parseXfcc(header))).toEqual(expected)
  })

  test('an element maps lowercased keys to arrays and holds nothing else', () => {
    const [el] = parseXfcc('By=a;URI=b') as [XfccElement]
    expect(Object.keys(el)).toEqual(['by', 'uri'])
    expect(el.by).toEqual(['a'])
    expect(el.hash).toBeUndefined()
    expect(el.toString).toBeUndefined() // no inherited members, so any key is safe to read
    expect(JSON.stringify(el)).toBe('{"by":["a"],"uri":["b"]}')
  })

  test('__proto__ does not change the prototype', () => {
    const [el] = parseXfcc('__proto__=x') as [XfccElement]
    const proto = Object.getPrototypeOf(el)
    expect(Object.getOwnPropertyNames(proto)).toEqual([])
    expect(Object.getPrototypeOf(proto)).toBe(null)
    expect(Object.keys(el)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(el, '__proto__')?.value).toEqual(['x'])
    expect(parseXfcc('By=a')[0]).toEqual({ by: ['a'] })
  })

  test('errors carry the offset, never the header', () => {
    try {
      parseXfcc('By=spiffe://a.test/x;URI="secret')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(XfccError)
      const e = err as XfccError
      expect(e.message).toBe('xfcc: unmatched quote at offset 25')
      expect(e.details).toEqual({ offset: 25, line: 0 })
      expect(e.message).not.toContain('secret')
    }
    expect(() => parseXfcc(['A=b', 'C="'])).toThrow('of line 2')
  })
})

describe('parseXfcc: duplicate Cert, Chain and Hash', () => {
  test.each([
    ['Cert="a";Cert="b"'],
    ['Chain="a";URI=x;Chain="b"'],
    ['Hash=a;Hash=b'],
    ['cert="a";CERT="b"'],
    ['By=a;Cert="x",By=b;Cert="y";cErT="z"'],
  ])('%s', (header) => {
    expect(codeOf(() => parseXfcc(header))).toBe('ERR_XFCC_DUPLICATE_KEY')
  })

  test('one Cert per element in several elements is fine', () => {
    expect(parseXfcc('Cert="a",Cert="b"')).toHaveLength(2)
  })

  test('other keys may repeat', () => {
    expect(plain(parseXfcc('Subject="a";Subject="b";X=1;X=2'))).toEqual([
      { subject: ['a', 'b'], x: ['1', '2'] },
    ])
  })
})

describe('parseXfcc: size limit', () => {
  const element = 'By=spiffe://a.test/x;URI=spiffe://a.test/y'
  const padded = (n: number): string => `${element};P=${'x'.repeat(n - element.length - 3)}`

  test('the default is 16 KiB', () => {
    expect(DEFAULT_XFCC_MAX_LENGTH).toBe(16384)
    expect(padded(16384)).toHaveLength(16384)
    expect(parseXfcc(padded(16384))).toHaveLength(1)
    expect(codeOf(() => parseXfcc(padded(16385)))).toBe('ERR_XFCC_TOO_LARGE')
  })

  test('it is checked before scanning, even for garbage', () => {
    expect(codeOf(() => parseXfcc('"'.repeat(20000)))).toBe('ERR_XFCC_TOO_LARGE')
  })

  test('lines count together, with their ", " join', () => {
    expect(parseXfcc([element, element], { maxLength: element.length * 2 + 2 })).toHaveLength(2)
    expect(codeOf(() => parseXfcc([element, element], { maxLength: element.length * 2 + 1 }))).toBe(
      'ERR_XFCC_TOO_LARGE',
    )
  })

  test('configurable', () => {
    expect(codeOf(() => parseXfcc(element, { maxLength: 10 }))).toBe('ERR_XFCC_TOO_LARGE')
    expect(parseXfcc(padded(40000), { maxLength: 40000 })).toHaveLength(1)
  })

  test.each([[0], [-1], [1.5], [Number.NaN], ['100']])('maxLength %s is an options error', (maxLength) => {
    expect(codeOf(() => parseXfcc(element, { maxLength: maxLength as number }))).toBe('ERR_OPTIONS_INVALID')
  })
})

describe('parseXfcc: input types', () => {
  test.each([[null], [undefined], [42], [{}], [['A=b', 7]], [[null]]])('%j is malformed', (input) => {
    expect(codeOf(() => parseXfcc(input as string))).toBe('ERR_XFCC_MALFORMED')
  })
})
