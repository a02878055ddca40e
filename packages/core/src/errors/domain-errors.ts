import { SvidkitError } from './svidkit-error.js'

/**
 * A SPIFFE ID or trust domain broke the grammar of SPIFFE-ID §2, or did not match a matcher.
 * @example
 * ```ts
 * try { SpiffeId.parse('spiffe://Example.org/a') } catch (e) { if (e instanceof SpiffeIdError) console.log(e.code) }
 * ```
 */
export class SpiffeIdError extends SvidkitError {}

/**
 * A bundle (X.509, JWT, SPIFFE JWKS or bundle map) could not be parsed or was not found.
 * @example
 * ```ts
 * try { SpiffeBundle.parse(td, '{}') } catch (e) { if (e instanceof BundleError) console.log(e.code) }
 * ```
 */
export class BundleError extends SvidkitError {}

/**
 * An X.509-SVID failed to parse or to verify.
 * @example
 * ```ts
 * try { verifyX509Svid(chain, bundles) } catch (e) { if (e instanceof X509SvidError) console.log(e.code) }
 * ```
 */
export class X509SvidError extends SvidkitError {}

/**
 * A JWT-SVID failed to parse or to verify.
 * @example
 * ```ts
 * try { verifyJwtSvid(token, bundles, { audience: 'api' }) } catch (e) { if (e instanceof JwtSvidError) console.log(e.code) }
 * ```
 */
export class JwtSvidError extends SvidkitError {}

/**
 * An `x-forwarded-client-cert` header was malformed, untrusted or yielded no acceptable caller.
 * @example
 * ```ts
 * try { parseXfcc(header) } catch (e) { if (e instanceof XfccError) console.log(e.code) }
 * ```
 */
export class XfccError extends SvidkitError {}

/**
 * A proxy certificate header (nginx, HAProxy, Traefik, ALB, RFC 9440) was malformed or untrusted.
 * @example
 * ```ts
 * try { decodeForwardedCert(value, 'nginx') } catch (e) { if (e instanceof ForwardedCertError) console.log(e.code) }
 * ```
 */
export class ForwardedCertError extends SvidkitError {}

/**
 * The request carried no usable credentials, malformed ones, or ones from a channel that is not allowed.
 * @example
 * ```ts
 * if (err instanceof CredentialsError && err.code === 'ERR_CREDENTIALS_MISSING') reply.code(401)
 * ```
 */
export class CredentialsError extends SvidkitError {}

/**
 * A token from an OIDC issuer failed verification, or the issuer's keys could not be fetched.
 * @example
 * ```ts
 * if (err instanceof OidcError) console.log(err.code)
 * ```
 */
export class OidcError extends SvidkitError {}

/**
 * An authenticated caller was denied by policy, lacked a scope, or the authorizer could not decide.
 * @example
 * ```ts
 * if (err instanceof AccessDeniedError) console.log(err.details?.rule, err.reason)
 * ```
 */
export class AccessDeniedError extends SvidkitError {}

/**
 * A policy document is invalid (schema, unknown key, bad template); carries the file position in `details`.
 * @example
 * ```ts
 * try { loadPolicy(text) } catch (e) { if (e instanceof PolicyError) console.log(e.details?.path) }
 * ```
 */
export class PolicyError extends SvidkitError {}

/**
 * An audit event read back (from a JSON audit log, for a replay) is not one svidkit wrote, or records
 * nothing that can be decided again.
 * @example
 * ```ts
 * try { parseAuditEvent(JSON.parse(line)) } catch (e) { if (e instanceof AuditError) console.log(e.message) }
 * ```
 */
export class AuditError extends SvidkitError {}

/**
 * A Workload API call failed, or its address is not usable.
 * @example
 * ```ts
 * if (err instanceof WorkloadApiError && err.code === 'ERR_WORKLOAD_API_PERMISSION_DENIED') retryLater()
 * ```
 */
export class WorkloadApiError extends SvidkitError {}

/**
 * A long-lived source is closed, not ready, timed out, or has nothing valid to serve.
 * @example
 * ```ts
 * if (err instanceof SourceError && err.code === 'ERR_SOURCE_TIMEOUT') process.exit(1)
 * ```
 */
export class SourceError extends SvidkitError {}

/**
 * A SPIFFE bundle endpoint could not be used or fetched.
 * @example
 * ```ts
 * if (err instanceof FederationError) console.log(err.message)
 * ```
 */
export class FederationError extends SvidkitError {}

/**
 * A TLS peer presented no certificate, or presented one svidkit refused.
 * @example
 * ```ts
 * if (err instanceof TlsError) socket.destroy()
 * ```
 */
export class TlsError extends SvidkitError {}

/**
 * Options passed to a svidkit factory were invalid. Thrown eagerly, when the object is created.
 * @example
 * ```ts
 * try { createJwtSvidVerifier({ audience: '' }) } catch (e) { if (e instanceof OptionsError) console.log(e.message) }
 * ```
 */
export class OptionsError extends SvidkitError {}
