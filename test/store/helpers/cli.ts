// The `deberta-lab` CLI run from source in a child process: node --import tsx test/store/helpers/cli.ts <args>
import { main } from '../../../src/cli/index'

process.exitCode = await main(process.argv.slice(2))
