// The "Python" export run for real: the lab service computes views of the v3 and v1 fixture checkpoints, the
// renderer's generator writes the scripts, and the PyTorch + transformers reference environment runs them. Each
// must reproduce the lab's numbers (exit 0), and the same script with one embedded number changed must fail
// (exit 1). The python is DEBERTA_LAB_PYTHON, else the reference venv .ci/run makes
// ($TMPDIR/deberta-ref-venv); without one that imports torch and transformers the suite is NOT RUN, said in
// the output and in its name.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { unzipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelRef } from '../../src/common/api'
import { createLabService, type LabService } from '../../src/lab/service'
import { buildPythonScript, type PythonExport } from '../../src/renderer/reproduce/python-script'
import {
  attentionPython,
  decodingPython,
  distanceProfilePython,
  modelViewPython,
  pairComparisonPython,
  problemPython,
  relativeCurvePython,
  relativeMatrixPython,
  rowsPython,
  sharesPython,
} from '../../src/renderer/reproduce/views'
import { FIXTURES, v1TokenizerJson } from './fake-hub'

/** The reference python, or why there is none. */
function referencePython(): { path?: string; why?: string } {
  const candidates = [process.env.DEBERTA_LAB_PYTHON, path.join(process.env.TMPDIR || os.tmpdir(), 'deberta-ref-venv', 'bin', 'python')].filter((p): p is string => !!p)
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue
    const probe = spawnSync(candidate, ['-c', 'import torch, transformers, safetensors'], { encoding: 'utf8', timeout: 120_000 })
    if (probe.status === 0) return { path: candidate }
    return { why: `${candidate} cannot import torch/transformers/safetensors: ${probe.stderr.trim().split('\n').pop()}` }
  }
  return { why: `no python with torch and transformers (set DEBERTA_LAB_PYTHON; looked at ${candidates.join(', ')})` }
}

const python = referencePython()
if (!python.path) console.warn(`Python reproduction scripts NOT RUN: ${python.why}`)

let lab: LabService
let tmp: string
let v3: ModelRef
let v1: ModelRef

/** A model folder as a user has it: the fixture's config and weights with its tokenizer files. */
function modelFolder(name: string, files: Record<string, Buffer>): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), bytes)
  return dir
}
const read = (...parts: string[]) => fs.readFileSync(path.join(FIXTURES, ...parts))

function run(source: PythonExport, name: string): { status: number | null; out: string } {
  const file = path.join(tmp, `${name}.py`)
  fs.writeFileSync(file, buildPythonScript(source))
  const result = spawnSync(python.path!, [file], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' } })
  return { status: result.status, out: `${result.stdout}\n${result.stderr}` }
}

/** The script passes; with `wrong`, the same script with one embedded number moved by 1e-2 fails. */
function expectReproduced(source: PythonExport, name: string, wrong = false): void {
  const good = run(source, name)
  expect(good.out).toContain('OK: transformers reproduces')
  expect(good.status, good.out).toBe(0)
  console.info(`python ${name}: ${/max abs diff over the view: .*/.exec(good.out)?.[0]}; ${/re-implemented forward .*/.exec(good.out)?.[0] ?? 'ablation: no check against the plain forward'}`)
  if (!wrong) return
  const [key, values] = Object.entries(source.expected).find(([k]) => !k.endsWith('.ids'))!
  const changed = Array.from(values)
  changed[changed.length >> 1] += 1e-2
  const bad = run({ ...source, expected: { ...source.expected, [key]: changed } }, `${name}-wrong`)
  expect(bad.status, bad.out).toBe(1)
  expect(bad.out).toContain(`MISMATCH`)
  expect(bad.out).toContain(key)
}

describe.skipIf(!python.path)(`Python reproduction scripts against transformers${python.path ? '' : ` (NOT RUN: ${python.why})`}`, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-python-'))
    const spm = (file: string) => read('tokenizer-spm', file)
    const v3Dir = modelFolder('deberta-v3-tiny', {
      'config.json': read('deberta-v3-tiny', 'config.json'),
      'model.safetensors': read('deberta-v3-tiny', 'model.safetensors'),
      'spm.model': spm('spm.model'),
      'tokenizer_config.json': spm('tokenizer_config.json'),
      'special_tokens_map.json': spm('special_tokens_map.json'),
      'added_tokens.json': spm('added_tokens.json'),
    })
    const v1Dir = modelFolder('deberta-v1-tiny', {
      'config.json': read('deberta-v1-tiny', 'config.json'),
      'model.safetensors': read('deberta-v1-tiny', 'model.safetensors'),
      'tokenizer.json': v1TokenizerJson(),
      'tokenizer_config.json': Buffer.from(JSON.stringify({ mask_token: '[MASK]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]' })),
    })
    v3 = { kind: 'checkpoint', path: v3Dir }
    v1 = { kind: 'checkpoint', path: v1Dir }
    lab = await createLabService({ storePath: path.join(tmp, 'lab.sqlite'), resourcesDir: path.resolve(__dirname, '../../resources'), host: 'browser', env: {} })
  }, 120_000)
  afterAll(async () => {
    await lab?.close()
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
  })

  const V3_TEXT = 'The new store opened beside the [MASK] mall and the small dog saw it.'
  const V1_TEXT = 'w10 w11 w12 w13 [MASK] w15 w16 w10 w11 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35'

  it('v3: every term, the scores and the probabilities of one head, and the mean over heads with an ablation', async () => {
    const request = { text: V3_TEXT, layer: 1, head: 2 as const }
    const result = await lab.runAttention({ model: v3, ...request })
    expect(result.tokens.inputIds.length).toBeGreaterThan(12)
    for (const shown of ['c2c', 'c2p', 'p2c', 'scores', 'probabilities'] as const) expectReproduced(attentionPython(result, request, shown)!, `v3-${shown}`)
    expectReproduced(sharesPython(result, request)!, 'v3-shares')
    const ablated = { text: V3_TEXT, layer: 1, head: 'mean' as const, disabledTerms: ['c2p' as const], ablationScope: 'layer' as const, p2p: true }
    const ablatedResult = await lab.runAttention({ model: v3, ...ablated })
    expectReproduced(attentionPython(ablatedResult, ablated, 'probabilities')!, 'v3-ablated-probabilities', true)
    expectReproduced(attentionPython(ablatedResult, ablated, 'p2p')!, 'v3-p2p')
    expectReproduced(sharesPython(ablatedResult, ablated)!, 'v3-ablated-shares')
    expectReproduced(rowsPython(ablatedResult, ablated, [1, 4, 6], 'mean')!, 'v3-rows-mean', true)
    expectReproduced(rowsPython(result, request, [0, 2], 'sum')!, 'v3-rows-sum')
  }, 600_000)

  it('v3: model view, distance profile, relative positions, decoding with the EMD, problem demo', async () => {
    const model = await lab.runModelView({ model: v3, text: V3_TEXT, disabledTerms: ['p2c'] })
    expectReproduced(modelViewPython(model, V3_TEXT, 'without p2c')!, 'v3-model-view')
    const distance = await lab.runDistanceProfile({ model: v3, text: V3_TEXT, layer: 0 })
    expectReproduced(distanceProfilePython(distance, V3_TEXT, 'all terms')!, 'v3-distance')
    const compareText = 'A small dog saw it. The new store opened beside the [MASK] mall and the small dog'
    const relativeRequest = { text: V3_TEXT, compareText, clipK: 5 }
    const relative = await lab.runRelativePositions({ model: v3, ...relativeRequest })
    expect(relative.comparison!.pairs.length).toBeGreaterThan(2)
    expectReproduced(relativeMatrixPython(relative, relativeRequest)!, 'v3-relative', true)
    expectReproduced(relativeCurvePython(relative, relativeRequest)!, 'v3-curve')
    expectReproduced(pairComparisonPython(relative, relativeRequest)!, 'v3-pairs', true)
    const decoding = await lab.runDecoding({ model: v3, text: V3_TEXT, topK: 5 })
    expectReproduced(decodingPython(decoding, { text: V3_TEXT }, 'decoding-emd-0')!, 'v3-decoding', true)
    const problem = await lab.runProblemDemo({ model: v3, text: V3_TEXT })
    expectReproduced(problemPython(problem, { text: V3_TEXT }, 'problem-deberta-term')!, 'v3-problem')
  }, 600_000)

  it('synthetic v3, v1 and BERT: the script travels in a zip with the weights as a Hugging Face folder', async () => {
    const base = { kind: 'synthetic', layers: 2, hidden: 32, heads: 4, intermediate: 64, positionBuckets: 8, maxRelativePositions: 16, maxPositions: 64, seed: 21 } as const
    const text = 'the small dog sees the small ball near the old house and the red ball'
    for (const arch of ['deberta-v3', 'deberta-v1', 'bert'] as const) {
      const model: ModelRef = { ...base, arch, positionBuckets: arch === 'deberta-v3' ? 8 : 0 }
      const request = { text, layer: 1, head: 3 as const }
      const result = await lab.runAttention({ model, ...request })
      const source = attentionPython(result, request, 'probabilities')!
      const bundle = await lab.exportPythonBundle({ model, script: buildPythonScript(source), name: `synthetic-${arch}` })
      const files = unzipSync(Buffer.from(bundle.base64, 'base64'))
      for (const [name, bytes] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(tmp, name)), { recursive: true })
        fs.writeFileSync(path.join(tmp, name), bytes)
      }
      const script = path.join(tmp, `synthetic-${arch}`, 'reproduce.py')
      const ran = spawnSync(python.path!, [script], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, HF_HUB_OFFLINE: '1' } })
      const out = `${ran.stdout}\n${ran.stderr}`
      console.info(`python synthetic ${arch}: ${/max abs diff over the view: .*/.exec(out)?.[0]}`)
      expect(out).toContain('OK: transformers reproduces')
      expect(ran.status, out).toBe(0)
    }
  }, 600_000)

  it('v1: terms, shares, model view, relative positions and decoding with the official EMD', async () => {
    const request = { text: V1_TEXT, layer: 0, head: 1 as const }
    const result = await lab.runAttention({ model: v1, ...request })
    expect(result.tokens.inputIds.slice(0, 3)).toEqual([1, 10, 11])
    for (const shown of ['c2c', 'c2p', 'p2c', 'probabilities'] as const) expectReproduced(attentionPython(result, request, shown)!, `v1-${shown}`)
    expectReproduced(sharesPython(result, request)!, 'v1-shares')
    const model = await lab.runModelView({ model: v1, text: V1_TEXT })
    expectReproduced(modelViewPython(model, V1_TEXT, 'all terms')!, 'v1-model-view', true)
    const relative = await lab.runRelativePositions({ model: v1, text: V1_TEXT })
    expectReproduced(relativeMatrixPython(relative, { text: V1_TEXT })!, 'v1-relative')
    expectReproduced(relativeCurvePython(relative, { text: V1_TEXT })!, 'v1-curve')
    const decoding = await lab.runDecoding({ model: v1, text: V1_TEXT, topK: 5 })
    expectReproduced(decodingPython(decoding, { text: V1_TEXT }, 'decoding-plain-0')!, 'v1-decoding')
  }, 600_000)
})
