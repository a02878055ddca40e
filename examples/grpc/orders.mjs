// The Orders service definition, loaded from orders.proto (shared by server.mjs and client.mjs).
import { loadPackageDefinition } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

const definition = loadSync(new URL('./orders.proto', import.meta.url).pathname, { keepCase: false })
export const { Orders } = loadPackageDefinition(definition).orders.v1

export const STATE_FILE_NAME = 'svidkit-grpc-example.json'
