// `deberta-lab bench --reference FILE`: the ratio of each timed case to a reference timing of the same part and
// length (what ../shared/perf/pytorch-reference.sh printed), and a typed error for a file that cannot be read whole.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { benchCommand, compareWithReference } from '../../src/cli/commands/bench'
import { main } from '../../src/cli/index'
import type { BenchCaseResult } from '../../src/lab/host-methods'

function capture() {
  let out = ''
  let err = ''
  return { io: { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) }, out: () => out, err: () => err }
}

let tmp: string
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-bench-ref-'))
})
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

function write(name: string, text: string): string {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, text)
  return file
}

const FAST = ['--repeats', '1', '--warmup-ms', '0']

describe('bench --reference', () => {
  it('gives each case of a referenced part and length its reference and ratio, in JSON and in the table', async () => {
    const file = write(
      'ref.jsonl',
      [
        '{"impl": "pytorch-hf", "preset": "tiny", "seq": 8, "part": "model", "median_ms": 2.5, "min_ms": 2.4, "max_ms": 2.7, "threads": 2}',
        '{"impl": "pytorch-hf", "preset": "tiny", "seq": 16, "part": "attention", "median_ms": 0.75}',
      ].join('\n'),
    )
    const c = capture()
    const code = await main(['bench', '--preset', 'tiny', '--seq', '8,16', '--part', 'attention,model', ...FAST, '--reference', file, '--json'], c.io)
    expect(code, c.err()).toBe(0)
    const rows = c
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BenchCaseResult & { referenceMs?: number; ratio?: number })
    const find = (part: string, seq: number) => rows.find((r) => r.part === part && r.seq === seq)!
    expect(find('model', 8).referenceMs).toBe(2.5)
    expect(find('model', 8).ratio).toBeCloseTo(find('model', 8).medianMs / 2.5, 12)
    expect(find('attention', 16).referenceMs).toBe(0.75)
    expect(find('attention', 16).ratio).toBeCloseTo(find('attention', 16).medianMs / 0.75, 12)
    // no reference for these: no fields (never a ratio against another part's time)
    for (const [part, seq] of [['attention', 8], ['model', 16], ['matmul', 8], ['matmul', 16]] as const) {
      const row = rows.find((r) => r.part === part && r.seq === seq)
      if (part !== 'matmul') expect(row, `${part} ${seq}`).toBeDefined()
      if (row) {
        expect(row.referenceMs, `${part} ${seq}`).toBeUndefined()
        expect(row.ratio, `${part} ${seq}`).toBeUndefined()
      }
    }
    expect(c.err()).toContain('(pytorch-hf); ratio = median ms / reference ms; no reference for attention T = 8, model T = 16')

    const t = capture()
    expect(await main(['bench', '--preset', 'tiny', '--seq', '8', '--part', 'model', ...FAST, '--reference', write('pairs.txt', '8:2')], t.io)).toBe(0)
    const [header, ...lines] = t.out().trim().split('\n')
    expect(header).toMatch(/ref ms\s+ratio$/)
    const model = lines.find((l) => l.startsWith('model'))!
    const median = Number(model.trim().split(/\s+/)[3])
    expect(model).toMatch(/\s2\.0\s+\d+\.\d\d×$/)
    expect(Number(/(\d+\.\d\d)×$/.exec(model)![1])).toBeCloseTo(median / 2, 1)
  })

  it('refuses, before timing anything, a file with an unreadable line, no timing, another preset, or that is not a file', async () => {
    const run = (file: string) => benchCommand.run(['--preset', 'tiny', '--seq', '8', '--part', 'model', ...FAST, '--reference', file], capture().io)
    await expect(run(write('typo.txt', '128:330\n512:1O50'))).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/1 unreadable part:\n {2}not "T:ms": 512:1O50/) })
    await expect(run(write('empty.txt', '\n\n'))).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/holds no timing/) })
    await expect(run(write('base.jsonl', '{"impl": "pytorch-hf", "preset": "base", "seq": 128, "part": "model", "median_ms": 330}'))).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/times preset base at T = 128, but this bench runs preset tiny/),
    })
    await expect(run(path.join(tmp, 'missing.jsonl'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(run(tmp)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/is a folder/) })
    await expect(run('')).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--reference is empty/) })
  })

  it('matches by part and length, for the disentangled variant only (matmul rate lines and BERT-style attention never get one)', () => {
    const base = { backend: 'wasm', preset: 'tiny', variant: 'disentangled', batch: 1, repeats: 1, minMs: 1, maxMs: 1, flops: 1, gflops: 1, warmups: 0, firstMs: 1, note: '' }
    const cases = [
      { ...base, part: 'matmul', seq: 8, medianMs: 1 },
      { ...base, part: 'layer', seq: 8, medianMs: 3 },
      { ...base, part: 'model', seq: 8, medianMs: 5 },
      { ...base, part: 'model', seq: 8, medianMs: 4, variant: 'standard' },
      { ...base, part: 'model', seq: 16, medianMs: 5 },
    ] as unknown as BenchCaseResult[]
    const out = compareWithReference(cases, [{ seq: 8, ms: 2 }, { seq: 8, ms: 10, part: 'model' }])
    expect(out.map((r) => [r.part, r.variant, r.seq, r.ratio])).toEqual([
      ['matmul', 'disentangled', 8, undefined],
      ['layer', 'disentangled', 8, 1.5],
      ['model', 'disentangled', 8, 0.5],
      ['model', 'standard', 8, undefined],
      ['model', 'disentangled', 16, undefined],
    ])
  })
})
