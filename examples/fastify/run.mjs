// Runs this example on its own: the svidkit dev agent, server.mjs, and two callers (see ../kit).
import { runExample } from '@svidkit-examples/kit'

await runExample(new URL('./server.mjs', import.meta.url), '/orders/42')
