// HAProxy 2.6 on 127.0.0.1: mTLS with a test-CA X.509-SVID, the client leaf forwarded as
// `X-SSL-Client-Cert: %[ssl_c_der,base64]` to a Node application using @svidkit/core.
import { describeProxy } from './support/proxy-suite.js'

describeProxy('haproxy')
