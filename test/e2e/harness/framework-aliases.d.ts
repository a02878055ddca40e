// Express 4 is installed as `express4` (npm:express@4) and ships no types of its own: its API is
// typed as Express 5's here, and the tests only use what both majors share.
declare module 'express4' {
  import express from 'express'
  export default express
}
