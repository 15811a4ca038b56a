// Parity with test/fixtures/deberta-v3-tiny (HF DebertaV2Model + official EMD / LM head), for both weight
// files, on every backend of the run (tensorflow when tfjs-node is installed, wasm, cpu; test/core/backends.ts).
import { paritySuite } from './parity'
import { TEST_BACKENDS, V3_DIR } from './helpers'

for (const backend of TEST_BACKENDS) {
  for (const file of ['model.safetensors', 'pytorch_model.bin'] as const) paritySuite(V3_DIR, file, backend)
}
