// Parity with test/fixtures/deberta-v3-tiny (HF DebertaV2Model + official EMD / LM head), for both weight
// files, on the wasm and cpu backends.
import { paritySuite } from './parity'
import { TEST_BACKENDS, V3_DIR } from './helpers'

for (const backend of TEST_BACKENDS) {
  for (const file of ['model.safetensors', 'pytorch_model.bin'] as const) paritySuite(V3_DIR, file, backend)
}
