// The Decoding workspace's two-model comparison as data: each [MASK] slot of the text with the top-k of model A
// and of model B (plain head and EMD), slots matched by the characters the mask covers (common/alignment.ts),
// and, for the tokens in both models' top-k, B's probability minus A's. A token outside a model's top-k has no
// probability in its result, so there is no difference for it.
import type { DecodingResult, TokenPrediction } from '../../common/api'
import { alignTokens } from '../../common/alignment'

export interface DecodingSlot {
  /** the span of the text the mask covers, and where it starts */
  label: string
  start: number
  a: DecodingResult['predictions'][number] | null
  b: DecodingResult['predictions'][number] | null
  /** tokens in both top-k lists: p in A, p in B, B − A */
  shared: Record<'plain' | 'emd', Array<{ token: string; a: number; b: number; difference: number }>>
}

function shared(a: TokenPrediction[] | undefined, b: TokenPrediction[] | undefined): DecodingSlot['shared']['plain'] {
  if (!a || !b) return []
  const inB = new Map(b.map((p) => [p.token, p.probability]))
  return a.flatMap((p) => (inB.has(p.token) ? [{ token: p.token, a: p.probability, b: inB.get(p.token)!, difference: inB.get(p.token)! - p.probability }] : []))
}

export function compareDecoding(text: string, a: DecodingResult, b: DecodingResult): DecodingSlot[] {
  const { units } = alignTokens(text, a.tokens, b.tokens)
  const byPosition = (result: DecodingResult) => new Map(result.predictions.map((p) => [p.position, p]))
  const predictionsA = byPosition(a)
  const predictionsB = byPosition(b)
  const slots: DecodingSlot[] = []
  for (const unit of units) {
    const inA = unit.a.filter((p) => predictionsA.has(p))
    const inB = unit.b.filter((p) => predictionsB.has(p))
    // one slot per mask: a span holding several masks (no space between them) pairs them in order
    for (let k = 0; k < Math.max(inA.length, inB.length); k++) {
      const pa = inA[k] === undefined ? null : predictionsA.get(inA[k])!
      const pb = inB[k] === undefined ? null : predictionsB.get(inB[k])!
      slots.push({ label: unit.label, start: unit.start, a: pa, b: pb, shared: { plain: shared(pa?.plain, pb?.plain), emd: shared(pa?.emd, pb?.emd) } })
    }
  }
  return slots
}
