// "Python" export: a short, self-contained script that recomputes a chart's numbers with Hugging Face
// transformers on the same model and text, checks that the tokenizer gives the lab's token ids, and compares
// with the lab's numbers embedded in it (prints the max abs difference, exits 1 above the tolerance).
// The recomputation (engine.py) is the same in every script; a script differs only in its LAB block: the model
// (where to find it, the SHA-256 of its weights), the text and ids, the view (which numbers) and the numbers.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the node tsconfig (tests) reaches this file by import only, so the ?raw declaration comes with it
/// <reference path="./python-raw.d.ts" />
import engine from './engine.py?raw'
import type { AblationScope, AttentionTerm, ModelInfo, ModelRef } from '../../common/api'
import { APP_VERSION } from '../../common/version'

/** Which numbers a script recomputes (engine.py `recompute`): the keys of `expected` follow from it. */
export type PythonView =
  | { kind: 'attention'; layer: number; head: number | 'mean'; matrix: AttentionTerm | 'scores' | 'probs'; disabledTerms: AttentionTerm[]; scope: PythonScope; p2p: boolean }
  | { kind: 'rows'; layer: number; head: number | 'mean'; rows: number[]; mode: 'sum' | 'mean'; names: string[]; disabledTerms: AttentionTerm[]; scope: PythonScope; p2p: boolean }
  | { kind: 'shares'; terms: AttentionTerm[]; disabledTerms: AttentionTerm[]; scope: PythonScope; p2p: boolean }
  | { kind: 'model-view'; terms: AttentionTerm[]; disabledTerms: AttentionTerm[]; p2p: boolean }
  | { kind: 'distance-profile'; layer: number; terms: AttentionTerm[]; disabledTerms: AttentionTerm[]; p2p: boolean }
  | { kind: 'relative-positions' }
  | { kind: 'relative-curve'; distances: number[]; clipK?: number }
  | { kind: 'pair-comparison'; compareText: string; compareIds: number[]; pairs: Array<{ a: [number, number]; b: [number, number] }> }
  | { kind: 'decoding'; positions: number[]; topK: number }
  | { kind: 'problem-demo'; terms: AttentionTerm[] }

/** An ablation's reach as engine.py reads it: null = every layer and head. */
export type PythonScope = { layer: number; head?: number } | null

/** Everything a script needs: the chart, the model, the text and ids, the view and the lab's numbers. */
export interface PythonExport {
  chartId: string
  model: ModelInfo
  text: string
  inputIds: number[]
  view: PythonView
  /** the lab's numbers, flattened row-major; ".ids" arrays are compared exactly */
  expected: Record<string, ArrayLike<number>>
  tolerance: number
}

/** Where the script finds the model (engine.py `model_folder`). */
export type PythonModelSource =
  | { kind: 'path'; path: string; note: string }
  | { kind: 'hub'; repo: string; revision: string; path: string; note: string }

/** A Hugging Face cache snapshot folder: …/models--org--name/snapshots/<commit>. */
const SNAPSHOT = /[\\/]models--([^\\/]+?)--([^\\/]+)[\\/]snapshots[\\/]([0-9a-f]{40})[\\/]?$/

export function pythonModelSource(ref: ModelRef): PythonModelSource {
  if (ref.kind === 'checkpoint') {
    const hub = SNAPSHOT.exec(ref.path)
    if (hub) {
      const repo = `${hub[1]}/${hub[2]}`
      return { kind: 'hub', repo, revision: hub[3], path: ref.path, note: `the Hugging Face model ${repo} at commit ${hub[3]}.` }
    }
    return { kind: 'path', path: ref.path, note: 'the model folder the lab read (config.json, weights, tokenizer).' }
  }
  if (ref.kind === 'bundled') {
    return {
      kind: 'path',
      path: ref.name,
      note: `the model folder shipped with DeBERTa Lab (resources/${ref.name} in the app and in its repository): put it beside this script.`,
    }
  }
  return {
    kind: 'path',
    path: 'model',
    note:
      `the folder "model" beside this script: a synthetic model (${ref.arch}, seed ${ref.seed}) exists only inside the lab (its weights are drawn ` +
      'from the seed by its own generator), so the lab exported it with the script as a Hugging Face folder (config.json, model.safetensors, tokenizer).',
  }
}

/** Whether the script travels with the model's weights (a zip made by the lab: LabApi.exportPythonBundle). */
export function pythonNeedsWeights(ref: ModelRef): boolean {
  return ref.kind === 'synthetic'
}

/** A script can be written for every model the lab loads (synthetic ones with their weights). */
export function pythonSupported(ref: ModelRef): boolean {
  return ref.kind === 'synthetic' || ref.kind === 'checkpoint' || ref.kind === 'bundled'
}

/** Numbers as JSON: float32 values written with the digits that read back to the same float32. */
function numbers(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => (Number.isFinite(v) ? v : Number.NaN))
}

/** The script's text. `exportedAt` is written into its header. */
export function buildPythonScript(source: PythonExport, exportedAt = new Date().toISOString()): string {
  const modelSource = pythonModelSource(source.model.ref)
  const expected: Record<string, number[]> = {}
  for (const [key, values] of Object.entries(source.expected)) expected[key] = numbers(values)
  const lab = {
    appVersion: APP_VERSION,
    chartId: source.chartId,
    exportedAt,
    model: { name: source.model.label, modelType: source.model.modelType, source: modelSource, ...(source.model.weightsSha256 ? { weightsSha256: source.model.weightsSha256 } : {}) },
    text: source.text,
    inputIds: source.inputIds,
    view: source.view,
    tolerance: source.tolerance,
    expected,
  }
  // JSON never holds three quotes in a row, so a raw triple-quoted string holds it as it is.
  const json = JSON.stringify(lab)
  const header = [
    '#!/usr/bin/env python3',
    `# Reproduce the DeBERTa Lab chart "${oneLine(source.chartId)}" with Hugging Face transformers.`,
    `# Exported by DeBERTa Lab ${APP_VERSION} on ${exportedAt}.`,
    `# Model: ${oneLine(source.model.label)} (${source.model.modelType}). It needs ${oneLine(modelSource.note)}`,
    `# Text: ${oneLine(source.text).slice(0, 200)}`,
    '#',
    '# Run:   python reproduce.py [--model DIR] [--tolerance X]',
    '# Needs: torch, transformers, safetensors (and sentencepiece for SentencePiece tokenizers).',
    '# Prints the max abs difference between the lab\'s numbers (LAB["expected"]) and transformers\' and exits 1',
    '# when one is above the tolerance, or when the tokenizer does not give the lab\'s token ids.',
    '',
    '# The lab\'s view and numbers (JSON).',
    `LAB = __import__("json").loads(r"""${json}""")`,
  ]
  return `${header.join('\n')}\n${engine}`
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

/** Scope of an Attention request as engine.py reads it. */
export function pythonScope(scope: AblationScope | undefined, layer: number, head: number | 'mean'): PythonScope {
  if (!scope || scope === 'all') return null
  return scope === 'head' && head !== 'mean' ? { layer, head } : { layer }
}
