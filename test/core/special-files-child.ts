// Run by special-files.test.ts in a child process (so that a regression that blocks on a FIFO or reads
// /dev/zero forever cannot hang or exhaust the test runner): loads every model-folder file from the folder
// given in argv[2] and prints one JSON line per loader: the error code, or "ok".
import { LabError } from '../../src/common/errors'
import { openTensorFile } from '../../src/core/checkpoint'
import { findMaskTokenId, readConfigFile } from '../../src/core/load'
import { loadTokenizerSync } from '../../src/core/tokenizer'
import * as path from 'node:path'

const dir = process.argv[2]
const outcome = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (error) {
    return error instanceof LabError ? `${error.code}: ${error.message}` : `THROWN ${(error as Error).name}: ${(error as Error).message}`
  }
}
const result = {
  tokenizer: outcome(() => loadTokenizerSync(dir)),
  config: outcome(() => readConfigFile(path.join(dir, 'config.json'))),
  weights: outcome(() => openTensorFile(path.join(dir, 'model.safetensors')).close()),
  maskId: outcome(() => findMaskTokenId(dir)),
}
process.stdout.write(JSON.stringify(result) + '\n')
