// Starts this example (dev agent, server.mjs in its own process, callers with their own SVIDs) and
// checks one allowed and one refused call; checks the README shows server.mjs (see ../kit).
import { exampleTests } from '@svidkit-examples/kit/example-tests'

exampleTests(new URL('./server.mjs', import.meta.url))
