/** One schema step. `up` is plain SQL run inside the transaction that also sets PRAGMA user_version = version. */
export interface Migration {
  version: number
  name: string
  up: string
}
