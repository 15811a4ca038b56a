// How the attention is computed, chosen per backend in this one place. Both strategies compute the same
// formulas (src/core/attention.ts) and are checked against the same goldens.
//
//   'per-head'  NH separate 2-D matmuls per term, Kᵀ by an explicit transpose, rel-shift by a custom kernel.
//               On wasm only 2-D, non-transposed matMuls against a weight hit XNNPACK (~20–35 GFLOP/s);
//               batched 3-D matMuls fall back to a ~2 GFLOP/s loop, so this is the fast form there (and on cpu).
//   'batched'   all heads at once: heads in the batch dimension of 3-D matmuls, fused Q/K/V weights, the
//               rel-shift as pad/reshape/slice. On tensorflow (tfjs-node) every op is a synchronous native call
//               with ~40 µs of dispatch, so ~25 ops per layer instead of ~150 is what makes it fast there.
//               Training (src/core/train) uses it on every backend: its ops all have gradients.
//
// DEBERTA_LAB_ATTENTION=per-head|batched overrides the choice (tests and benchmarks of both forms).
import * as tf from '@tensorflow/tfjs-core'
import { LabError } from '../common/errors'

export type AttentionStrategy = 'per-head' | 'batched'
export const ATTENTION_STRATEGIES: readonly AttentionStrategy[] = ['per-head', 'batched']

/** The strategy for a backend (default: the current one), unless DEBERTA_LAB_ATTENTION says otherwise. */
export function attentionStrategyFor(backend: string = tf.getBackend()): AttentionStrategy {
  const forced = typeof process !== 'undefined' ? process.env.DEBERTA_LAB_ATTENTION : undefined
  if (forced) {
    if (!(ATTENTION_STRATEGIES as readonly string[]).includes(forced)) {
      throw new LabError('CONFIG_INVALID', `DEBERTA_LAB_ATTENTION=${forced} is not one of ${ATTENTION_STRATEGIES.join(', ')}`)
    }
    return forced as AttentionStrategy
  }
  return backend === 'tensorflow' ? 'batched' : 'per-head'
}
