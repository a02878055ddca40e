// Runs one call on a short-lived client that is always closed afterwards. Not exported from the package.
import { WorkloadApiClient, type WorkloadApiClientOptions } from './workload-api-client.js'

/** @internal */
export async function withClient<T>(
  options: WorkloadApiClientOptions & { client?: WorkloadApiClient | undefined },
  fn: (client: WorkloadApiClient) => Promise<T>,
): Promise<T> {
  if (options.client) return fn(options.client)
  const client = new WorkloadApiClient(options)
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}
