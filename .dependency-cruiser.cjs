// The layers of @svidkit/core (see CONTRIBUTING.md, "Layers"). A folder may import only folders on
// lower layers; entry points (`index.ts` files, listed in package.json `svidkit.entries`) sit above
// everything and are imported by nothing inside core. `node scripts/check-layers.mjs` runs these
// rules in `pnpm test`, and also refuses import cycles that span folders and files over the size limit.
const LAYERS = [
  ['errors'],
  ['spiffe-id'],
  ['internal'],
  ['bundle', 'caller'],
  ['x509-svid', 'jwt-svid', 'oidc'],
  ['forwarded-cert'],
  ['xfcc'],
  ['policy'],
  ['audit', 'source'],
  ['tls', 'workload-api', 'federation', 'http-client'],
  ['pipeline'],
  ['adapter'],
]

const SRC = '^packages/core/src/'
const ENTRY = `${SRC}(index\\.ts$|[^/]+/index\\.ts$|policy/(cedar|opa)/index\\.ts$|workload-api/proto/index\\.ts$)`
const folders = (list) => `${SRC}(${list.join('|')})/`

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('+')}`,
  comment: `${layer.join(', ')} may not import a folder above it (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: folders(layer), pathNot: ENTRY },
  to: { path: folders(LAYERS.slice(i + 1).flat()) },
}))

module.exports = {
  LAYERS,
  forbidden: [
    ...layerRules,
    {
      name: 'no-entry-import',
      comment: 'inside core, import the file that defines a name, never an entry point (index.ts)',
      severity: 'error',
      from: { path: SRC, pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: 'unknown-folder',
      comment: 'every folder of core has a layer: add a new folder to LAYERS',
      severity: 'error',
      from: { path: SRC },
      to: { path: SRC, pathNot: [`${folders(LAYERS.flat())}`, ENTRY] },
    },
    {
      name: 'no-circular',
      comment: 'an import cycle (scripts/check-layers.mjs keeps only those that span folders)',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/dist/'] },
    tsConfig: { fileName: 'packages/core/tsconfig.json' },
  },
}
