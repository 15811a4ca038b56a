// Parity with test/fixtures/deberta-v1-tiny (HF DebertaModel + official EMD / LM head), for both weight
// files, on every backend of the run (tensorflow when tfjs-node is installed, wasm, cpu; test/core/backends.ts).
import { paritySuite } from './parity'
import { TEST_BACKENDS, V1_DIR } from './helpers'

for (const backend of TEST_BACKENDS) {
  for (const file of ['model.safetensors', 'pytorch_model.bin'] as const) paritySuite(V1_DIR, file, backend)
}
