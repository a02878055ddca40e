// nginx 1.22 (Debian nginx-light) on 127.0.0.1: mTLS with a test-CA X.509-SVID, the client leaf
// forwarded as `X-Client-Cert: $ssl_client_escaped_cert` to a Node application using @svidkit/core.
import { describeProxy } from './support/proxy-suite.js'

describeProxy('nginx')
