// The routing regression table: policy must decide for exactly the path and method the router
// serves. Every adapter serves the same routes (literal, parametric, public, optional) under its
// router's default settings and its loose ones, behind three policy shapes. Each row sends a path
// variant (case, trailing slash, double slash, ";", HEAD, %-encodings, dot segments) over a real TLS
// socket, and a recording handler checks the invariant:
//
//   for every request that reaches a handler, the policy allows the handler's own path and method
//   (its route template with the parameters it received, and the method it was registered for).
//
// The oracle is the policy evaluated on that path with exact matching, which needs no knowledge of
// the router: a row that reached `/orders/export` by any spelling is checked as `GET /orders/export`.
import { request as httpsRequest } from 'node:https'
import type { Caller, CallerVerifierOptions } from '@svidkit/core/caller'
import { evaluatePolicy, type Policy } from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import type { TestX509Svid } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { RunningServer } from './adapter.js'
import { createFixtures, type Fixtures, SELF, TRUSTED_PROXY_ADDRESS } from './fixtures.js'
import { POLICY_SHAPES } from './routing-policies.js'

/** How a route is guarded. `policy`: a caller is required and the global policy decides. */
export type RoutingAccess = 'policy' | 'public' | 'optional'

/** A route, in the `:param` syntax Express, Fastify and Nest share. */
export interface RoutingRoute {
  readonly method: 'GET' | 'POST'
  readonly template: string
  readonly access: RoutingAccess
}

/** What a handler saw: its route, the parameters, the request method and the caller. */
export interface Hit {
  readonly route: RoutingRoute
  readonly params: Readonly<Record<string, string>>
  readonly requestMethod: string
  readonly caller: Caller | undefined
}

/** A server under test for the routing table. */
export interface RoutingServerConfig {
  readonly host: string
  readonly tls: { readonly key: string; readonly cert: string }
  readonly verifier: CallerVerifierOptions
  /** The framework's router settings to use, by name (each adapter says which it has). */
  readonly router: string
  readonly routes: readonly RoutingRoute[]
  /** Handlers call this before answering `{ caller }`. */
  record(hit: Hit): void
}

/** An adapter under test for the routing table. */
export interface RoutingAdapter {
  readonly name: string
  /** Router settings to run the table under: the framework's defaults and its loose settings. */
  readonly routers: readonly string[]
  start(config: RoutingServerConfig): Promise<RunningServer>
}

export const ROUTING_ROUTES: readonly RoutingRoute[] = [
  { method: 'GET', template: '/public/health', access: 'public' },
  { method: 'GET', template: '/optional', access: 'optional' },
  // Literal before parametric: both routers (and Nest's) then prefer the literal route.
  { method: 'GET', template: '/orders/export', access: 'policy' },
  { method: 'GET', template: '/orders', access: 'policy' },
  { method: 'GET', template: '/orders/:id', access: 'policy' },
  { method: 'POST', template: '/orders', access: 'policy' },
  { method: 'GET', template: '/admin/:section', access: 'policy' },
]

/** The requests each row is derived from. */
const BASE: readonly { method: string; path: string }[] = [
  { method: 'GET', path: '/orders/export' },
  { method: 'GET', path: '/orders/1' },
  { method: 'GET', path: '/orders' },
  { method: 'POST', path: '/orders' },
  { method: 'GET', path: '/admin/users' },
]

const upperAll = (p: string) => p.toUpperCase()
const capitalize = (p: string) => p.replace(/\/([a-z])/g, (_m, c: string) => `/${c.toUpperCase()}`)
const lastUpper = (p: string) => p.replace(/[a-z]+$/, (s) => s.toUpperCase())
const encodeFirst = (p: string) =>
  p.replace(/\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`)
const encodeLast = (p: string) =>
  p.replace(
    /([a-z])([a-z]*)$/,
    (_m, c: string, rest: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}${rest}`,
  )

/** Every spelling of a path a router might route to the same handler (or an attacker might try). */
export function pathVariants(path: string): string[] {
  const segments = path.split('/')
  const last = segments.length - 1
  const variants = [
    path,
    upperAll(path),
    capitalize(path),
    lastUpper(path),
    `${path}/`,
    `${upperAll(path)}/`,
    `/${path}`,
    path.replace(/\/([^/]*)$/, '//$1'),
    `${path}//`,
    `${path};x=1`,
    `${lastUpper(path)};jsessionid=1`,
    `${path}?q=1`,
    encodeFirst(path),
    encodeLast(path),
    `${path}%2F`,
    `${path}%3Bx`,
    `${segments.slice(0, last).join('/')}/./${segments[last]}`,
    `${segments.slice(0, last).join('/')}/x/../${segments[last]}`,
    `${segments.slice(0, last).join('/')}/%2e/${segments[last]}`,
    `${path}/.`,
  ]
  return [...new Set(variants)]
}

interface Row {
  readonly method: string
  readonly path: string
}

function rows(): Row[] {
  const out: Row[] = []
  for (const b of BASE) {
    for (const path of pathVariants(b.path)) {
      out.push({ method: b.method, path })
      if (b.method === 'GET') out.push({ method: 'HEAD', path })
    }
  }
  return out
}

/** A raw HTTPS request: the path is sent exactly as given (no URL normalization). */
export function sendRaw(
  url: string,
  req: {
    method: string
    path: string
    certificate?: TestX509Svid | undefined
    from?: string
    headers?: Record<string, string>
  },
  ca: readonly string[],
): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        host: hostname,
        port,
        method: req.method,
        path: req.path,
        agent: false,
        ca: [...ca],
        ...(req.certificate
          ? { cert: req.certificate.certificatesPem, key: req.certificate.privateKeyPem }
          : {}),
        ...(req.from ? { localAddress: req.from } : {}),
        headers: { accept: 'application/json', ...req.headers },
        timeout: 5000,
        signal: AbortSignal.timeout(5000),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body })
        })
      },
    )
    r.on('timeout', () => r.destroy(new Error('request timed out')))
    r.on('error', reject)
    r.end()
  })
}

/** The handler's own path: its template with the parameters it received. */
export function handlerPath(hit: Hit): string {
  return hit.route.template.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => hit.params[name] ?? '')
}

/** The invariant, for one handler that ran: `undefined` when it holds, else why not. */
export function violation(policy: Policy, hit: Hit): string | undefined {
  if (hit.route.access === 'public') return undefined
  if (hit.caller === undefined) {
    return hit.route.access === 'optional' ? undefined : 'a policy route ran without a caller'
  }
  if (hit.route.access === 'optional') return undefined
  const path = handlerPath(hit)
  const d = evaluatePolicy(policy, {
    caller: hit.caller,
    self: SpiffeId.parse(SELF),
    operation: { kind: 'http', method: hit.route.method, path },
  })
  return d.decision === 'allow'
    ? undefined
    : `${hit.requestMethod} reached the ${hit.route.method} ${hit.route.template} handler as ${path}, which the policy denies (${d.reason})`
}

/** Runs the table against one adapter: every router setting × every policy shape × every row. */
export function runRoutingTable(adapter: RoutingAdapter): void {
  describe(`routing table: ${adapter.name}`, () => {
    let fx: Fixtures
    beforeAll(async () => {
      fx = await createFixtures()
    })
    afterAll(async () => {
      await fx?.close()
    })

    for (const router of adapter.routers) {
      for (const shape of POLICY_SHAPES) {
        describe(`router ${router}, policy "${shape.name}"`, () => {
          const hits: Hit[] = []
          let server: RunningServer | undefined
          beforeAll(async () => {
            server = await adapter.start({
              host: '127.0.0.1',
              tls: fx.profiles.default.tls,
              verifier: { ...fx.profiles.default.verifier, authorizer: shape.authorizer() },
              router,
              routes: ROUTING_ROUTES,
              record: (hit) => hits.push(hit),
            })
          })
          afterAll(async () => {
            await server?.close()
          })

          test('no request reaches a handler its path and method are denied for', async () => {
            const problems: string[] = []
            let reached = 0
            for (const row of rows()) {
              hits.length = 0
              const res = await sendRaw(
                server!.url,
                { method: row.method, path: row.path, certificate: fx.svids.web },
                fx.serverTrust,
              )
              for (const hit of hits) {
                reached++
                const why = violation(shape.policy, hit)
                if (why) problems.push(`${row.method} ${row.path} → ${res.status}: ${why}`)
              }
              if (hits.length === 0 && res.status < 300) {
                problems.push(`${row.method} ${row.path} answered ${res.status} without a handler`)
              }
              if (res.status >= 500) problems.push(`${row.method} ${row.path} → ${res.status}`)
            }
            expect(problems).toEqual([])
            // The table is only meaningful if allowed rows do get through.
            expect(reached).toBeGreaterThan(10)
          })

          test.each(shape.expectations)('%s %s → %i', async (method, path, status) => {
            const res = await sendRaw(
              server!.url,
              { method, path, certificate: fx.svids.web },
              fx.serverTrust,
            )
            expect(res.status, JSON.stringify(res.body)).toBe(status)
          })
        })
      }
    }

    describe(`router ${adapter.routers[0]}: present but unacceptable credentials`, () => {
      const hits: Hit[] = []
      let server: RunningServer | undefined
      beforeAll(async () => {
        server = await adapter.start({
          host: '127.0.0.1',
          tls: fx.profiles.default.tls,
          verifier: fx.profiles.default.verifier,
          router: adapter.routers[0]!,
          routes: ROUTING_ROUTES,
          record: (hit) => hits.push(hit),
        })
      })
      afterAll(async () => {
        await server?.close()
      })

      const bad: readonly [string, (fx: Fixtures) => Promise<Parameters<typeof sendRaw>[1]>, string][] = [
        [
          'a bearer that is not a JWT',
          async () => ({ method: 'GET', path: '/optional', headers: { authorization: 'Bearer not-a-jwt' } }),
          'ERR_JWT_SVID_MALFORMED',
        ],
        [
          'a JWT-SVID for another audience',
          async (f) => ({
            method: 'GET',
            path: '/optional',
            headers: {
              authorization: `Bearer ${await f.jwt('/tenant/acme/web', { audience: 'spiffe://example.org/other' })}`,
            },
          }),
          'ERR_JWT_SVID_AUDIENCE_MISMATCH',
        ],
        [
          'an OIDC token for another audience',
          async (f) => ({
            method: 'GET',
            path: '/optional',
            headers: { authorization: `Bearer ${await f.oidc.mint({ sub: 'u', audience: 'other' })}` },
          }),
          'ERR_OIDC_AUDIENCE_MISMATCH',
        ],
        [
          'Bearer and a tab',
          async () => ({ method: 'GET', path: '/optional', headers: { authorization: 'Bearer\tabc' } }),
          'ERR_CREDENTIALS_MALFORMED',
        ],
        [
          'an expired client certificate',
          async (f) => ({ method: 'GET', path: '/optional', certificate: f.svids.expired }),
          'ERR_X509_SVID_EXPIRED',
        ],
        [
          'a certificate of an unknown trust domain',
          async (f) => ({ method: 'GET', path: '/optional', certificate: f.svids.rogue }),
          'ERR_X509_SVID_NO_BUNDLE',
        ],
        [
          'an XFCC header from an untrusted peer',
          async () => ({
            method: 'GET',
            path: '/optional',
            headers: { 'x-forwarded-client-cert': 'URI=spiffe://example.org/tenant/acme/admin' },
          }),
          'ERR_XFCC_UNTRUSTED_PEER',
        ],
        [
          "an XFCC header from the proxy's address without its SVID",
          async () => ({
            method: 'GET',
            path: '/optional',
            from: TRUSTED_PROXY_ADDRESS,
            headers: { 'x-forwarded-client-cert': 'URI=spiffe://example.org/tenant/acme/admin' },
          }),
          'ERR_XFCC_UNTRUSTED_PEER',
        ],
      ]

      test.each(bad)(
        'optional route, %s: refused (%s), the handler never runs',
        async (_name, make, code) => {
          hits.length = 0
          const res = await sendRaw(server!.url, await make(fx), fx.serverTrust)
          expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
            status: code === 'ERR_CREDENTIALS_MALFORMED' ? 400 : 401,
            code,
          })
          expect(hits).toEqual([])
        },
      )

      test.each(bad)(
        'public route, %s: not looked at, the handler runs without a caller',
        async (_name, make) => {
          hits.length = 0
          const req = await make(fx)
          const res = await sendRaw(server!.url, { ...req, path: '/public/health' }, fx.serverTrust)
          expect(res.status).toBe(200)
          expect(hits.map((h) => [h.route.template, h.caller])).toEqual([['/public/health', undefined]])
        },
      )
    })
  })
}
