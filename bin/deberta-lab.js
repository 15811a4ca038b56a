#!/usr/bin/env node
// Thin launcher for the built CLI (out/main/cli.js, made by `npm run build`, which `npm install` runs).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const entry = fileURLToPath(new URL('../out/main/cli.js', import.meta.url))
if (!existsSync(entry)) {
  process.stderr.write('deberta-lab: the app is not built yet. Run `npm run build` in the project folder first.\n')
  process.exit(1)
}
const { main } = await import(pathToFileURL(entry).href)
process.exitCode = await main(process.argv.slice(2))
