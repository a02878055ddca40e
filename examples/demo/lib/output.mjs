// What the demo prints: colours, one line per call and per audit event, and the check of each call's
// outcome against what it expects.

const useColor = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : String(text))
export const bold = paint('1')
export const dim = paint('2')
export const green = paint('32')
export const red = paint('31')
export const yellow = paint('33')
export const say = (line = '') => process.stdout.write(`${line}\n`)

/** How a call reaches its service, as printed. */
export const HOW = {
  mtls: 'mTLS',
  jwt: 'JWT-SVID',
  nginx: 'via nginx',
  forged: 'forged header',
  grpc: 'gRPC, channel credentials',
  'grpc+jwt': 'gRPC, channel + JWT-SVID call credentials',
  files: 'mTLS with SVID files',
}

export function short(serial) {
  return serial && serial.length > 12 ? `${serial.slice(0, 12)}…` : (serial ?? '?')
}

/** `200`, `403 ERR_ACCESS_DENIED`, `OK (0)`, `PERMISSION_DENIED (7) ERR_ACCESS_DENIED`. */
export function statusText({ status, grpc, code }) {
  const head = grpc === undefined ? String(status) : `${grpc.name ?? grpc} (${grpc.code ?? '?'})`
  return code ? `${head} ${code}` : head
}

/** What one call expects, as printed before it is made. */
export function expectedText(expect) {
  if (expect.grpc) {
    const name = expect.grpc
    const head = `${name} (${GRPC_CODES[name]})`
    if (expect.handshake) return `${head}: refused in the handshake with ${expect.handshake}`
    return expect.code ? `${head} ${expect.code}` : head
  }
  return expect.code ? `${expect.status} ${expect.code}` : String(expect.status)
}

export const GRPC_CODES = { OK: 0, PERMISSION_DENIED: 7, UNAVAILABLE: 14, UNAUTHENTICATED: 16 }

/** An audit event as one line. */
export function auditLine(service, e) {
  const op =
    e.operation.kind === 'grpc' ? `gRPC ${e.operation.method}` : `${e.operation.method} ${e.operation.path}`
  const rule = e.rule ? ` rule=${e.rule}` : ''
  const code = e.code ? ` code=${e.code}` : ''
  return `audit ${service}: ${e.decision} ${op}${rule}${code} (${e.latencyMs.toFixed(2)} ms)`
}

/**
 * What a service saw and decided for one call, from the audit events it wrote for it: the caller and
 * its channel, the rules (an allowed request may pass several: the policy, then a route requirement)
 * and their reasons, or the one that denied it.
 */
export function decidedBy(events) {
  const deny = events.findLast((e) => e.decision === 'deny')
  if (deny) {
    return {
      callerId: deny.caller ?? undefined,
      channel: deny.channel ?? undefined,
      rules: deny.rule ? [deny.rule] : [],
      why: deny.reason,
    }
  }
  const first = events[0]
  return {
    callerId: first?.caller ?? undefined,
    channel: first?.channel ?? undefined,
    rules: events.map((e) => e.rule).filter(Boolean),
    why: events.map((e) => e.reason).join('; then '),
  }
}

/** Differences between what a call (or an inner call) expected and what happened; empty when none. */
export function problemsOf(expect, seen, ids) {
  const problems = []
  if (expect.grpc !== undefined) {
    if (seen.grpc?.name !== expect.grpc)
      problems.push(`gRPC ${seen.grpc?.name ?? 'none'}, expected ${expect.grpc}`)
  } else if (seen.status !== expect.status) {
    problems.push(`status ${seen.status}, expected ${expect.status}`)
  }
  if (expect.code && seen.code !== expect.code) problems.push(`code ${seen.code}, expected ${expect.code}`)
  if (expect.handshake && seen.refused !== expect.handshake) {
    problems.push(`handshake refusal ${seen.refused ?? 'none'}, expected ${expect.handshake}`)
  }
  if (expect.caller && seen.callerId !== ids.get(expect.caller)) {
    problems.push(`caller ${seen.callerId}, expected ${expect.caller}`)
  }
  if (expect.channel && seen.channel !== expect.channel) {
    problems.push(`channel ${seen.channel}, expected ${expect.channel}`)
  }
  if (expect.rule && !seen.rules.includes(expect.rule) && !String(seen.why).includes(`"${expect.rule}"`)) {
    problems.push(`decided by ${seen.rules.join(', ') || 'no rule'}, expected ${expect.rule}`)
  }
  return problems
}

/** `✔ 200 · <caller> via mtls · <why>` */
export function outcomeLine(ok, seen) {
  const who = seen.callerId
    ? `${seen.callerId} via ${seen.channel}`
    : seen.refused
      ? 'no caller (refused in the TLS handshake)'
      : 'no caller (refused before one was established)'
  return `${ok ? green('✔') : red('✘')} ${bold(statusText(seen))} · ${who} · ${seen.why}`
}
