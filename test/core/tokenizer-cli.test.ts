import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index'

// `tokenize` through the real dispatcher (argument handling, exit codes, error printing).

const SPM_DIR = path.resolve(__dirname, '../fixtures/tokenizer-spm')
const golden = JSON.parse(fs.readFileSync(path.join(SPM_DIR, 'tokenization_golden.json'), 'utf8')).cases as Array<{
  text: string
  input_ids: number[]
}>

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) })
  return { code, stdout, stderr }
}

describe('deberta-lab tokenize', () => {
  it('prints input_ids, tokens, token_type_ids and offsets as JSON', async () => {
    const r = await run(['tokenize', SPM_DIR, '--text', 'The [MASK] sat.', '--pair', 'ok'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout)
    expect(out.input_ids).toEqual([1, 31, 1000, 4, 5, 272, 6, 2, 4, 672, 2])
    expect(out.tokens).toEqual(['[CLS]', '▁The', '[MASK]', '▁', 's', 'at', '.', '[SEP]', '▁', 'ok', '[SEP]'])
    expect(out.token_type_ids).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    expect(out.offsets[1]).toEqual([0, 3])
    expect(out.offsets[2]).toEqual([4, 10])
    expect(out.offsets[9]).toEqual([0, 2])
  })

  it('matches a golden case exactly', async () => {
    const r = await run(['tokenize', SPM_DIR, '--text', golden[0].text, '--compact'])
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(r.stdout).input_ids).toEqual(golden[0].input_ids)
  })

  it('fails with a typed error and exit code 1', async () => {
    const missing = await run(['tokenize', path.join(SPM_DIR, 'nope'), '--text', 'x'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^error \[TOKENIZER_NOT_FOUND\]/)
    const noText = await run(['tokenize', SPM_DIR])
    expect(noText.code).toBe(1)
    expect(noText.stderr).toMatch(/--text is required/)
    const usage = await run(['tokenize', '--help'])
    expect(usage.code).toBe(0)
    expect(usage.stdout).toMatch(/deberta-lab tokenize <model-dir>/)
  })
})
