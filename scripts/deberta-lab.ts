// Runs the `deberta-lab` CLI from source: npx tsx scripts/deberta-lab.ts <command> [options]
import { main } from '../src/cli/index'

process.exitCode = await main(process.argv.slice(2))
