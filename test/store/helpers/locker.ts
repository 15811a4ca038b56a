// Child process that holds a store's write lock: BEGIN IMMEDIATE, report "locked", wait until stdin closes,
// then COMMIT and report "released". What another DeBERTa Lab (or a long import) does to this process's peers.
//
//   node --import tsx test/store/helpers/locker.ts <store>
import { writeSync } from 'node:fs'
import Database from 'better-sqlite3'

const [path] = process.argv.slice(2)
const db = new Database(path)
db.exec('BEGIN IMMEDIATE')
writeSync(1, 'locked\n')
process.stdin.resume()
process.stdin.on('end', () => {
  db.exec('COMMIT')
  db.close()
  writeSync(1, 'released\n')
})
