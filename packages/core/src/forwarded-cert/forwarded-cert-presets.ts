/**
 * The proxy header formats {@link decodeForwardedCert} understands:
 * - `'nginx'`: `$ssl_client_escaped_cert` (nginx ≥ 1.13.5, ingress-nginx `ssl-client-cert`): the leaf as
 *   PEM, percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`).
 * - `'alb'`: AWS ALB mTLS passthrough `X-Amzn-Mtls-Clientcert`: the whole chain the client presented,
 *   leaf first, as URL-encoded PEM with `+ = /` left literal. Sent unverified by ALB.
 * - `'alb-leaf'`: AWS ALB mTLS verify mode `X-Amzn-Mtls-Clientcert-Leaf`: the leaf, same encoding.
 * - `'traefik-v2'`: Traefik v2 `passTLSClientCert` `X-Forwarded-Tls-Client-Cert`: each certificate as
 *   bare base64 DER passed through Go's `url.QueryEscape`, comma-separated, leaf first.
 * - `'traefik-v3'`: the same header in Traefik v3: raw bare base64 DER, comma-separated, leaf first.
 * - `'haproxy'`: `%[ssl_c_der,base64]`: the leaf as base64 DER; chain header `%[ssl_c_chain_der,base64]`
 *   (concatenated DER of the certificates after the leaf).
 * - `'rfc9440'`: RFC 9440 `Client-Cert` (a structured-field byte sequence `:base64:`) and
 *   `Client-Cert-Chain` (a list of byte sequences, leaf excluded), as Cloudflare and Keycloak use them.
 *
 * @example
 * ```ts
 * const format: ForwardedCertFormat = 'rfc9440'
 * ```
 */
export type ForwardedCertFormat =
  | 'nginx'
  | 'alb'
  | 'alb-leaf'
  | 'traefik-v2'
  | 'traefik-v3'
  | 'haproxy'
  | 'rfc9440'

/**
 * Where a proxy puts the client certificate, for one {@link ForwardedCertFormat}.
 *
 * @example
 * ```ts
 * const preset: ForwardedCertPreset = forwardedCertPresets.haproxy
 * preset.header // 'x-ssl-client-cert'
 * preset.chainHeader // 'x-ssl-client-chain'
 * ```
 */
export interface ForwardedCertPreset {
  /** The format name. */
  readonly format: ForwardedCertFormat
  /** The usual header name (lowercase). Operator-chosen for nginx and HAProxy: this is a convention. */
  readonly header: string
  /** The usual companion header with the certificates after the leaf, when the format has one. */
  readonly chainHeader: string | undefined
  /** What the header holds. */
  readonly description: string
}

/**
 * The usual header names of each format, for adapters and documentation. Headers whose name the
 * operator chooses (nginx `proxy_set_header`, HAProxy `http-request set-header`) can have any name;
 * whatever the name, the proxy must overwrite a client-sent header of that name on every request.
 *
 * @example
 * ```ts
 * import { forwardedCertPresets } from '@svidkit/core/forwarded-cert'
 * forwardedCertPresets.rfc9440.header      // 'client-cert'
 * forwardedCertPresets.rfc9440.chainHeader // 'client-cert-chain'
 * ```
 */
export const forwardedCertPresets: Readonly<Record<ForwardedCertFormat, ForwardedCertPreset>> = Object.freeze(
  {
    nginx: Object.freeze({
      format: 'nginx',
      header: 'ssl-client-cert',
      chainHeader: undefined,
      description: 'nginx $ssl_client_escaped_cert: percent-encoded PEM leaf',
    }),
    alb: Object.freeze({
      format: 'alb',
      header: 'x-amzn-mtls-clientcert',
      chainHeader: undefined,
      description: 'AWS ALB mTLS passthrough: URL-encoded PEM chain, leaf first',
    }),
    'alb-leaf': Object.freeze({
      format: 'alb-leaf',
      header: 'x-amzn-mtls-clientcert-leaf',
      chainHeader: undefined,
      description: 'AWS ALB mTLS verify mode: URL-encoded PEM leaf',
    }),
    'traefik-v2': Object.freeze({
      format: 'traefik-v2',
      header: 'x-forwarded-tls-client-cert',
      chainHeader: undefined,
      description: 'Traefik v2 passTLSClientCert: comma-separated, query-escaped base64 DER, leaf first',
    }),
    'traefik-v3': Object.freeze({
      format: 'traefik-v3',
      header: 'x-forwarded-tls-client-cert',
      chainHeader: undefined,
      description: 'Traefik v3 passTLSClientCert: comma-separated base64 DER, leaf first',
    }),
    haproxy: Object.freeze({
      format: 'haproxy',
      header: 'x-ssl-client-cert',
      chainHeader: 'x-ssl-client-chain',
      description: 'HAProxy %[ssl_c_der,base64] (leaf) and %[ssl_c_chain_der,base64] (rest of the chain)',
    }),
    rfc9440: Object.freeze({
      format: 'rfc9440',
      header: 'client-cert',
      chainHeader: 'client-cert-chain',
      description: 'RFC 9440 Client-Cert (byte sequence) and Client-Cert-Chain (list, leaf excluded)',
    }),
  },
)
