import type { Caller } from '@svidkit/core/caller'

// Express's `Request` (express-serve-static-core) extends the global `Express.Request`, so this types
// `req.caller` for Express 4 and 5 alike.
declare global {
  namespace Express {
    interface Request {
      /**
       * The verified caller, set by the `svid()` middleware; `undefined` before it, on routes without
       * it, and for optional authentication without credentials. Narrow on `channel` (`'oidc'` has a
       * `principal`, the others a `spiffeId`).
       */
      caller?: Caller | undefined
    }
  }
}
