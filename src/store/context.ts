// What every repository function gets: the connection, the clock and this process's owner identity.
import type { Db } from './db'

export interface StoreContext {
  db: Db
  path: string
  /** ISO 8601 UTC timestamp for "now" */
  now: () => string
  /** identifies the runs this store instance starts (see markInterruptedRuns) */
  owner: { pid: number; token: string }
}
