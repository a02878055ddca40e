/**
 * The svidkit CLI version (kept equal to package.json by a test).
 *
 * @example
 * ```ts
 * console.log(`svidkit ${VERSION}`) // 'svidkit 0.1.0'
 * ```
 */
export const VERSION = '0.1.0'
