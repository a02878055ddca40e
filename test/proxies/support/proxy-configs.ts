// The nginx and HAProxy configurations under test, and how each is started. Everything (config, pid
// file, logs, temp paths) lives in the test's temp dir; both listen on 127.0.0.1 and connect to the
// application from PROXY_SOURCE (127.0.0.2), the only peer the application trusts.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PkiFiles } from './pki.js'
import { PROXY_SOURCE } from './upstream.js'

export interface ProxyConfigInput {
  /** Temp dir for the config, pid file, logs and temp paths. */
  readonly dir: string
  readonly files: PkiFiles
  /** The proxy's TLS port on 127.0.0.1. */
  readonly listenPort: number
  /** The application's port on 127.0.0.1. */
  readonly upstreamPort: number
}

/** The header nginx sets: `$ssl_client_escaped_cert`, URL-encoded PEM of the client leaf. */
export const NGINX_HEADER = 'x-client-cert'

/**
 * nginx (1.22, nginx-light): TLS with a required, verified client certificate; the verified leaf goes
 * upstream as `X-Client-Cert: $ssl_client_escaped_cert`. `proxy_set_header` keeps any client-sent
 * header of the same name from being passed (and an empty value sends none), so a client cannot
 * forge `X-Client-Cert`; `X-Forwarded-Client-Cert` is cleared the same way, because the application
 * also accepts Envoy XFCC from this peer.
 */
export function nginxConfig(input: ProxyConfigInput): string {
  const { dir, files } = input
  const tmp = join(dir, 'tmp')
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(tmp, d), { recursive: true })
  // As root, nginx would switch its workers to `nobody`, who cannot enter the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  return `# svidkit proxy test: nginx
${user}worker_processes 1;
events { worker_connections 64; }
http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${join(tmp, 'body')};
  proxy_temp_path ${join(tmp, 'proxy')};
  fastcgi_temp_path ${join(tmp, 'fastcgi')};
  uwsgi_temp_path ${join(tmp, 'uwsgi')};
  scgi_temp_path ${join(tmp, 'scgi')};

  server {
    listen 127.0.0.1:${input.listenPort} ssl;
    ssl_certificate ${files.serverCert};
    ssl_certificate_key ${files.serverKey};
    ssl_verify_client on;
    ssl_client_certificate ${files.clientCas};
    ssl_verify_depth 2;

    location / {
      proxy_pass http://127.0.0.1:${input.upstreamPort};
      proxy_bind ${PROXY_SOURCE};
      proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
      proxy_set_header X-Forwarded-Client-Cert "";
    }
  }
}
`
}

/** Writes the nginx config; returns the command line (foreground, pid and error log set on the command line). */
export function nginxCommand(nginx: string, input: ProxyConfigInput): { command: string; args: string[] } {
  const conf = join(input.dir, 'nginx.conf')
  writeFileSync(conf, nginxConfig(input))
  return {
    command: nginx,
    args: [
      '-p',
      input.dir,
      '-c',
      conf,
      '-e',
      'stderr',
      '-g',
      `daemon off; pid ${join(input.dir, 'nginx.pid')}; error_log stderr notice;`,
    ],
  }
}

/** The header HAProxy sets: `%[ssl_c_der,base64]`, base64 DER of the client leaf. */
export const HAPROXY_HEADER = 'x-ssl-client-cert'

/**
 * HAProxy (2.6): TLS with a required, verified client certificate; the leaf goes upstream as
 * `X-SSL-Client-Cert: %[ssl_c_der,base64]`. Client-sent `X-SSL-Client-Cert` and
 * `X-Forwarded-Client-Cert` are deleted first (`set-header` would replace the former anyway).
 */
export function haproxyConfig(input: ProxyConfigInput): string {
  const { files } = input
  return `# svidkit proxy test: HAProxy
global
  log stderr format raw local0 notice

defaults
  mode http
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend tls_in
  bind 127.0.0.1:${input.listenPort} ssl crt ${files.serverPem} verify required ca-file ${files.clientCas}
  http-request del-header X-SSL-Client-Cert
  http-request del-header X-Forwarded-Client-Cert
  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]
  default_backend app

backend app
  server app 127.0.0.1:${input.upstreamPort} source ${PROXY_SOURCE}
`
}

/** Writes the HAProxy config; returns the command line (foreground with -db). */
export function haproxyCommand(
  haproxy: string,
  input: ProxyConfigInput,
): { command: string; args: string[] } {
  const conf = join(input.dir, 'haproxy.cfg')
  writeFileSync(conf, haproxyConfig(input))
  return { command: haproxy, args: ['-f', conf, '-db', '-p', join(input.dir, 'haproxy.pid')] }
}
