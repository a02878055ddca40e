// JSON output that keeps bigints exact (a SPIFFE bundle sequence number is a 64-bit integer).
const MARK = '\u0000bigint:'

/** `JSON.stringify` that writes bigint values as exact JSON integers. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${MARK}${v}` : v))
  return text.replace(new RegExp(`"${MARK.replace('\u0000', '\\\\u0000')}(-?\\d+)"`, 'g'), '$1')
}
