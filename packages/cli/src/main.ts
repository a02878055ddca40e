import { Command, CommanderError, Option } from 'commander'
import { type CliResult, type ExitCode, rejected } from './cli-result.js'
import { agentCommand } from './commands/agent-command.js'
import { bundleCommand } from './commands/bundle-command.js'
import { fetchBundlesCommand, fetchJwtCommand, fetchX509Command } from './commands/fetch-command.js'
import { idCommand } from './commands/id-command.js'
import { jwtVerifyCommand } from './commands/jwt-verify-command.js'
import { policyCheckCommand, policyLintCommand } from './commands/policy-command.js'
import { policyReplayCommand } from './commands/policy-replay-command.js'
import { policyTestCommand } from './commands/policy-test-command.js'
import { x509VerifyCommand } from './commands/x509-verify-command.js'
import { xfccCommand } from './commands/xfcc-command.js'
import { readStdin, usage } from './inputs.js'
import { toJsonText } from './json-text.js'
import { VERSION } from './version.js'

/**
 * Where the CLI reads and writes; the defaults are the process streams.
 *
 * @example
 * ```ts
 * let out = ''
 * const io: CliIo = { stdout: (t) => void (out += t), stderr: () => {}, stdin: process.stdin }
 * await main(['id', 'spiffe://example.org/web', '--json'], io) // out: '{"ok":true,…}\n'
 * ```
 */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  stdin: NodeJS.ReadableStream
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: process.stdin,
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/**
 * A long-running command (agent) that manages its own output and lifetime.
 *
 * @example
 * ```ts
 * const run: Runner = async () => 0 // resolves with the exit code once the command stops
 * ```
 */
export type Runner = () => Promise<ExitCode>

function buildProgram(io: CliIo, done: (result: CliResult | Runner) => void): Command {
  const program = new Command('svidkit')
    .description(
      'Inspect and verify SPIFFE identities: IDs, bundles, X.509-SVIDs, JWT-SVIDs and XFCC headers.',
    )
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: () => {} })
    // Also accepted before the command (`svidkit --json id …`); every command accepts it after too.
    .option('--json', 'print exactly one JSON object on stdout')

  const json = () => new Option('--json', 'print exactly one JSON object on stdout')

  program
    .command('id')
    .description('validate a SPIFFE ID and show its parts')
    .argument('<id>', 'the SPIFFE ID, e.g. spiffe://example.org/ns/prod/sa/web')
    .addOption(json())
    .action((id: string) => done(idCommand(id)))

  program
    .command('bundle')
    .description('show what a bundle file holds per trust domain (bundle map, SPIFFE bundle or PEM)')
    .argument('<file>', 'the bundle file')
    .option('--trust-domain <td>', 'trust domain of a SPIFFE bundle or PEM file')
    .addOption(json())
    .action((file: string, opts: { trustDomain?: string }) => done(bundleCommand(file, opts)))

  const x509 = program.command('x509').description('X.509-SVID commands')
  x509
    .command('verify')
    .description("verify an X.509-SVID chain against the bundle of the leaf's trust domain")
    .argument('<chain.pem>', 'PEM certificates, leaf first')
    .option('--bundle <file>', 'bundle map, SPIFFE bundle or PEM CA file (repeatable)', collect, [])
    .option('--trust-domain <td>', 'trust domain of SPIFFE bundle / PEM bundle files')
    .option('--at <RFC3339>', 'verify at this time instead of now')
    .addOption(json())
    .action((file: string, opts: { bundle: string[]; trustDomain?: string; at?: string }) =>
      done(x509VerifyCommand(file, opts)),
    )

  const jwt = program.command('jwt').description('JWT-SVID commands')
  jwt
    .command('verify')
    .description("verify a JWT-SVID against the JWT bundle of its subject's trust domain")
    .argument('<token>', 'the compact JWT-SVID, or - to read it from stdin')
    .option('--bundle <file>', 'bundle map, SPIFFE bundle or JWKS file (repeatable)', collect, [])
    .option('--trust-domain <td>', 'trust domain of SPIFFE bundle files')
    .requiredOption('--audience <aud>', 'an accepted audience (repeatable; any of them)', collect)
    .option('--at <RFC3339>', 'verify at this time instead of now')
    .addOption(json())
    .action(
      async (
        token: string,
        opts: { bundle: string[]; trustDomain?: string; audience: string[]; at?: string },
      ) => {
        const value = token === '-' ? await readStdin(io.stdin) : token
        done(jwtVerifyCommand(value, opts))
      },
    )

  program
    .command('xfcc')
    .description('parse an x-forwarded-client-cert value and show the caller it names')
    .argument('<header-value>', 'the header value')
    .option('--trusted-hops <n>', 'take the caller from the element n from the end (default 1: the last)')
    .option('--by <id>', "require the last element's By to be this SPIFFE ID (our own ID)")
    .addOption(json())
    .action((header: string, opts: { trustedHops?: string; by?: string }) => done(xfccCommand(header, opts)))

  const policy = program.command('policy').description('policy commands')
  policy
    .command('check')
    .description('what a policy decides for one caller and operation (exit 0 allow, 1 deny)')
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .requiredOption('--self <id>', "the service's own SPIFFE ID")
    .requiredOption('--caller <id>', "the caller's SPIFFE ID (for --channel oidc: its sub)")
    .option('--issuer <iss>', 'the OIDC issuer of an oidc caller')
    .option('--channel <channel>', 'mtls | xfcc | jwt | oidc (default mtls, or oidc with --issuer)')
    .option('--scope <scope>', 'a scope the caller holds (repeatable)', collect)
    .option('--claims <json>', 'verified claims, as a JSON object')
    .option('--method <method>', 'HTTP method')
    .option('--path <path>', 'HTTP path')
    .option('--grpc-method <method>', 'gRPC full method, /pkg.Service/Method')
    .addOption(json())
    .action((opts: Parameters<typeof policyCheckCommand>[0]) => done(policyCheckCommand(opts)))
  policy
    .command('lint')
    .description('check a policy file: schema, unknown keys, unreachable rules')
    .argument('<file>', 'policy file (YAML or JSON)')
    .addOption(json())
    .action((file: string) => done(policyLintCommand(file)))
  policy
    .command('test')
    .description('decide every case of a test file with the policy (exit 1 on any mismatch, like opa test)')
    .argument('<policy>', 'policy file (YAML or JSON)')
    .argument(
      '<cases>',
      'test file: cases of caller, operation, self and the expected decision (YAML or JSON)',
    )
    .addOption(json())
    .action((policyFile: string, casesFile: string) => done(policyTestCommand(policyFile, casesFile)))
  policy
    .command('replay')
    .description(
      'decide audited requests again with a new policy and report what would change (exit 1 if anything would)',
    )
    .requiredOption('--audit <file>', "audit events, one JSON object per line (svidkit's JSON audit sink)")
    .requiredOption('--policy <file>', 'the new policy')
    .option(
      '--policy-old <file>',
      'the policy the events were decided with (default: compare with the recorded decisions)',
    )
    .addOption(json())
    .action(async (opts: Parameters<typeof policyReplayCommand>[0]) => done(await policyReplayCommand(opts)))

  const fetch = program
    .command('fetch')
    .description('fetch from the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET)')
  const socket = () => new Option('--socket <addr>', 'Workload API address, unix:///path or tcp://ip:port')
  const timeout = () => new Option('--timeout <seconds>', 'give up after this long (default 10)')
  fetch
    .command('x509')
    .description("this workload's X.509-SVIDs and bundles")
    .addOption(socket())
    .addOption(timeout())
    .option('--write-dir <dir>', 'write svid.pem, svid_key.pem and svid_bundle.pem like spiffe-helper')
    .addOption(json())
    .action(async (opts: Parameters<typeof fetchX509Command>[0]) => done(await fetchX509Command(opts)))
  fetch
    .command('jwt')
    .description('a JWT-SVID for an audience')
    .requiredOption('--audience <aud>', 'audience (repeatable)', collect)
    .option('--spiffe-id <id>', 'which of the workload identities to use')
    .addOption(socket())
    .addOption(timeout())
    .addOption(json())
    .action(async (opts: Parameters<typeof fetchJwtCommand>[0]) => done(await fetchJwtCommand(opts)))
  fetch
    .command('bundles')
    .description('the X.509 and JWT bundles, per trust domain')
    .option('--write <file>', 'save them as a SPIFFE bundle map')
    .addOption(socket())
    .addOption(timeout())
    .addOption(json())
    .action(async (opts: Parameters<typeof fetchBundlesCommand>[0]) => done(await fetchBundlesCommand(opts)))

  program
    .command('agent')
    .description(
      'run a development Workload API server from an in-memory CA (never in production: use SPIRE)',
    )
    .option(
      '--config <file>',
      'agent config file (YAML or JSON); SIGHUP re-reads it (identities, federation)',
    )
    .option('--socket <path>', 'unix socket path to serve on')
    .option('--trust-domain <td>', 'trust domain (default example.org)')
    .option('--id <spiffe-id>', 'an identity to issue, or a path in the trust domain (repeatable)', collect)
    .option('--svid-ttl <seconds>', 'X.509-SVID lifetime; rotated at half-life')
    .option(
      '--ca-dir <dir>',
      'keep the CA (and its keys) in this folder so a restarted agent serves the same bundle',
    )
    .addOption(json())
    .action((opts: Parameters<typeof agentCommand>[0]) =>
      done(agentCommand({ ...opts, json: opts.json === true || program.opts().json === true }, io)),
    )

  return program
}

const USAGE_CODES = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.optionMissingArgument',
  'commander.excessArguments',
  'commander.invalidArgument',
  'commander.conflictingOption',
  'commander.help',
])

/**
 * Runs the svidkit CLI with `argv` (without the node and script paths) and returns the exit code:
 * 0 accepted, 1 rejected, 2 usage error. With `--json`, exactly one JSON object is written to stdout.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2))
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<ExitCode> {
  const wantsJson = argv.includes('--json')
  let result: CliResult | Runner | undefined
  const program = buildProgram(io, (r) => {
    result = r
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0
      if (USAGE_CODES.has(err.code) || err.exitCode !== 0) {
        const message =
          err.code === 'commander.help' ? 'a subcommand is required' : err.message.replace(/^error: /, '')
        result = rejected(usage(message))
      }
    } else {
      result = rejected(err)
    }
  }
  if (result === undefined) {
    if (argv.length === 0) {
      io.stdout(program.helpInformation())
      return 2
    }
    result = rejected(usage('nothing to do'))
  }
  if (typeof result === 'function') return result()
  if (wantsJson) io.stdout(`${toJsonText(result.json)}\n`)
  else if (result.exitCode === 0 || result.humanToStdout) io.stdout(`${result.human}\n`)
  else io.stderr(`${result.human}\n${result.exitCode === 2 ? "run 'svidkit --help' for usage\n" : ''}`)
  return result.exitCode
}
