// NestJS on Express: see nest.mjs.
import { serveNest } from './nest.mjs'

await serveNest('express')
