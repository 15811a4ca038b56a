// Limits and path checks found by the CLI robustness tour: each used to run for minutes, exhaust memory, or
// fail with INTERNAL after the work was done. Now each is refused first, with a typed error.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { benchCommand } from '../../src/cli/commands/bench'
import { forwardCommand, MAX_FORWARD_LENGTH } from '../../src/cli/commands/forward'
import { sessionsCommand } from '../../src/cli/commands/sessions'
import { trainCommand } from '../../src/cli/commands/train'
import { DEBERTA_V3_BASE } from '../../src/core/config'
import { createSyntheticModel } from '../../src/core/synthetic'
import { openStore } from '../../src/store'

const TOY = path.resolve(__dirname, '../../resources/toy-deberta')

function capture() {
  let out = ''
  let err = ''
  return { io: { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) }, out: () => out, err: () => err }
}

describe('CLI limits and paths', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-limits-'))
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('forward: checks --out before computing, and refuses rows longer than its limit', async () => {
    const inputs = path.join(tmp, 'in.json')
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[1, 5, 6, 2]] }))
    const c = capture()
    await expect(forwardCommand.run([TOY, '--inputs', inputs, '--out', path.join(tmp, 'nope', 'x.safetensors')], c.io)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/folder of the --out file .* does not exist/),
    })
    await expect(forwardCommand.run([TOY, '--inputs', inputs, '--out', tmp], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/is a folder/) })
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [Array.from({ length: MAX_FORWARD_LENGTH + 1 }, () => 5)] }))
    await expect(forwardCommand.run([TOY, '--inputs', inputs, '--out', path.join(tmp, 'x.safetensors')], c.io)).rejects.toMatchObject({ code: 'SEQUENCE_TOO_LONG' })
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: Array.from({ length: 5000 }, () => [1, 5, 2]) }))
    await expect(forwardCommand.run([TOY, '--inputs', inputs, '--out', path.join(tmp, 'x.safetensors')], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/split the batch/) })
    expect(fs.readdirSync(tmp)).toEqual(['in.json'])
  })

  it('bench: bounded repeats and lengths; a config too large to hold is CONFIG_INVALID before allocating', async () => {
    const c = capture()
    await expect(benchCommand.run(['--preset', 'tiny', '--seq', '8', '--repeats', '1000000000'], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/1 to 1000/) })
    await expect(benchCommand.run(['--preset', 'tiny', '--seq', '1000000', '--part', 'attention'], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/1 to 8192/) })
    const started = performance.now()
    expect(() => createSyntheticModel({ ...DEBERTA_V3_BASE, vocabSize: 1e9 }, { seed: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/GiB/) }))
    expect(() => createSyntheticModel({ ...DEBERTA_V3_BASE, hiddenSize: 65536, attentionHeadSize: 5461 }, { seed: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }))
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('train: unknown config fields and absurd step counts are CONFIG_INVALID', async () => {
    const file = path.join(tmp, 'cfg.json')
    const c = capture()
    const attempt = (config: unknown) => {
      fs.writeFileSync(file, JSON.stringify(config))
      return trainCommand.run(['--experiment', file, '--store', path.join(tmp, 'lab.sqlite')], c.io)
    }
    await expect(attempt({ preset: 'terms', training: { steps: 1e9 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/training\.steps/) })
    await expect(attempt({ preset: 'terms', training: 'x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/training/) })
    await expect(attempt({ preset: 'terms', trainng: { steps: 3 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/trainng/) })
    await expect(attempt({ preset: 'terms', training: { stpes: 3 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/training\.stpes/) })
  })

  it('sessions: export into a missing folder is BAD_REQUEST before writing; list --all --json shows deletedAt', async () => {
    const storePath = path.join(tmp, 'lab.sqlite')
    const store = openStore(storePath)
    const kept = store.createSession({ name: 'kept' })
    const gone = store.createSession({ name: 'gone' })
    store.deleteSession(gone.id)
    store.close()
    const c = capture()
    await expect(sessionsCommand.run(['export', kept.id, path.join(tmp, 'missing', 's.dlab'), '--store', storePath], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(await sessionsCommand.run(['list', '--all', '--json', '--store', storePath], c.io)).toBe(0)
    const list = JSON.parse(c.out()) as Array<{ id: string; deletedAt: string | null }>
    expect(list.find((s) => s.id === kept.id)?.deletedAt).toBeNull()
    expect(list.find((s) => s.id === gone.id)?.deletedAt).toEqual(expect.any(String))
  })
})
