// FLOP model of the implementation, per sequence of length T (batch 1). Counts 2·m·n·k for every matmul
// of an [m, k]·[k, n] product, as the code computes it:
//
//   attention block (HF DebertaV2Attention = self-attention + SelfOutput)
//     qkv         3 · 2·T·H·A            query/key/value projections (A = NH·D)
//     c2c         NH · 2·T·T·D           Q·Kᵀ per head
//     c2p         NH · 2·T·W·D           Q·Kr over the W = 2T−1 distances of the length (then rel-shift)
//     p2c         NH · 2·W·T·D           Qr·Kᵀ over the W distances (then rel-shift)
//     context     NH · 2·T·T·D           probs·V per head
//     out         2·T·A·H                attention output dense
//   feed-forward  2·T·H·I + 2·T·I·H      intermediate and output dense
//   model         embed_proj 2·T·E·H (when E ≠ H) + L layers + conv 2·k·T·H·H (v2 ConvLayer)
//   lm head       2·n·H·E + 2·n·E·V      for n masked positions (not part of the bench's "model")
//
// Not counted: element-wise work (LayerNorm, softmax, GELU, scaling, adds), rel-shift and gather copies,
// table uploads, p2p (a per-length constant built on the host), and the relative-embedding projections
// 2·(2·span)·H·A per side per layer, which run once when the model is loaded.
//
// The "standard" variant is the BERT baseline of the same dimensions: qkv + c2c + context + out.
import type { DebertaConfig } from './config'

export type AttentionVariant = 'disentangled' | 'standard'

export interface FlopTerm {
  name: string
  flops: number
}

export function sumFlops(terms: FlopTerm[]): number {
  return terms.reduce((a, t) => a + t.flops, 0)
}

/** Terms of one attention block. */
export function attentionFlopTerms(config: DebertaConfig, length: number, variant: AttentionVariant = 'disentangled'): FlopTerm[] {
  const T = length
  const { hiddenSize: H, numAttentionHeads: NH, attentionHeadSize: D } = config
  const A = NH * D
  const W = 2 * T - 1
  const relative = variant === 'disentangled' && config.relativeAttention && config.modelType !== 'bert'
  const terms: FlopTerm[] = [
    { name: 'qkv', flops: 3 * 2 * T * H * A },
    { name: 'c2c', flops: NH * 2 * T * T * D },
  ]
  if (relative && config.posAttType.includes('c2p')) terms.push({ name: 'c2p', flops: NH * 2 * T * W * D })
  if (relative && config.posAttType.includes('p2c')) terms.push({ name: 'p2c', flops: NH * 2 * W * T * D })
  terms.push({ name: 'context', flops: NH * 2 * T * T * D }, { name: 'out', flops: 2 * T * A * H })
  return terms
}

/** Terms of one encoder layer (attention block + feed-forward). */
export function layerFlopTerms(config: DebertaConfig, length: number, variant: AttentionVariant = 'disentangled'): FlopTerm[] {
  const T = length
  const { hiddenSize: H, intermediateSize: I } = config
  return [...attentionFlopTerms(config, length, variant), { name: 'ffn', flops: 2 * T * H * I + 2 * T * I * H }]
}

/** Terms of the whole encoder (embeddings + every layer), without the LM head. */
export function modelFlopTerms(config: DebertaConfig, length: number, variant: AttentionVariant = 'disentangled'): FlopTerm[] {
  const T = length
  const { hiddenSize: H, embeddingSize: E, numHiddenLayers: L } = config
  const terms: FlopTerm[] = []
  if (E !== H) terms.push({ name: 'embed_proj', flops: 2 * T * E * H })
  for (const t of layerFlopTerms(config, length, variant)) terms.push({ name: t.name, flops: L * t.flops })
  if (variant === 'disentangled' && config.modelType === 'deberta-v2' && config.convKernelSize > 0) {
    terms.push({ name: 'conv', flops: 2 * config.convKernelSize * T * H * H })
  }
  return terms
}

/** LM head for n rows. */
export function lmHeadFlops(config: DebertaConfig, rows: number): number {
  const { hiddenSize: H, embeddingSize: E, vocabSize: V } = config
  return 2 * rows * H * E + 2 * rows * E * V
}

/** The dense matmuls of one layer, [T, H]·[H, H] ×4 (q, k, v, out), [T, H]·[H, I], [T, I]·[I, H]: the reference shapes. */
export function referenceMatmulShapes(config: DebertaConfig, length: number): Array<[number, number, number]> {
  const { hiddenSize: H, intermediateSize: I } = config
  const A = config.numAttentionHeads * config.attentionHeadSize
  return [
    [length, H, A],
    [length, H, A],
    [length, H, A],
    [length, A, H],
    [length, H, I],
    [length, I, H],
  ]
}
