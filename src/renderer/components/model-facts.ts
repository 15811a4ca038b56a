// How the model picker words a found model's facts (pure, tested in Node).
import type { FoundModel } from '../../common/api'

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`
  return `${bytes} B`
}

export function formatParameters(count: number | undefined): string {
  if (count === undefined) return '? parameters'
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B parameters`
  if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e8 ? 0 : 1)}M parameters`
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k parameters`
  return `${count} parameters`
}

const KINDS: Record<string, string> = { deberta: 'DeBERTa v1', 'deberta-v2': 'DeBERTa v2/v3', bert: 'BERT' }

export function kindLabel(modelType: string | undefined): string {
  return modelType ? (KINDS[modelType] ?? modelType) : 'unknown kind'
}

/** "MLM head + EMD", "MLM head (cls.predictions)", "no MLM head". */
export function headLabel(model: Pick<FoundModel, 'mlmHead' | 'emd'>): string {
  if (!model.mlmHead) return 'no MLM head'
  if (model.emd) return 'MLM head + EMD'
  return model.mlmHead === 'cls' ? 'MLM head (cls.predictions)' : 'MLM head'
}

/** Where a found model comes from: bundled, cache (with its refs or short commit), recent folder. */
export function originLabel(model: Pick<FoundModel, 'source' | 'refs' | 'commit'>): string {
  if (model.source === 'bundled') return 'bundled'
  if (model.source === 'recent') return 'recent folder'
  const at = model.refs?.length ? model.refs.join(', ') : model.commit ? model.commit.slice(0, 10) : ''
  return at ? `HF cache @ ${at}` : 'HF cache'
}
