// The CLI holes of the independent attack (issue 12): outputs that were inputs (the store, a model's files, the
// inputs file, through links, special files), control characters from stored data reaching the terminal, and
// loosely read arguments (`__proto__` as a preset, `--store ""`, `0x10` and `1e1` as integers).
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { integerListOption, parseInteger } from '../../src/cli/args'
import { benchCommand } from '../../src/cli/commands/bench'
import { forwardCommand } from '../../src/cli/commands/forward'
import { sessionsCommand } from '../../src/cli/commands/sessions'
import { trainCommand } from '../../src/cli/commands/train'
import { main } from '../../src/cli/index'
import { safeText, toJsonText } from '../../src/cli/text'
import { openStore } from '../../src/store'

const TOY = path.resolve(__dirname, '../../resources/toy-deberta')
/** Any control character a terminal may act on (line feed aside). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

function capture() {
  let out = ''
  let err = ''
  return { io: { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) }, out: () => out, err: () => err }
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = capture()
  const code = await main(args, c.io)
  return { code, stdout: c.out(), stderr: c.err() }
}

let tmp: string
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-hardening-'))
})
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('sessions export never writes onto the store (issue 12, item 1)', () => {
  it('refuses the store, its -wal/-shm, a symlink or hard link to it and a path through ..; the sessions survive', async () => {
    const storePath = path.join(tmp, 'lab.sqlite')
    const store = openStore(storePath)
    const kept = store.createSession({ name: 'kept' })
    const other = store.createSession({ name: 'other' })
    store.close()
    fs.mkdirSync(path.join(tmp, 'sub'))
    fs.symlinkSync(storePath, path.join(tmp, 'link.dlab'))
    fs.linkSync(storePath, path.join(tmp, 'hard.dlab'))
    const targets = [
      storePath,
      `${storePath}-wal`,
      `${storePath}-shm`,
      path.join(tmp, 'sub', '..', 'lab.sqlite'),
      path.join(tmp, 'link.dlab'),
      path.join(tmp, 'hard.dlab'),
    ]
    const before = fs.readFileSync(storePath)
    for (const target of targets) {
      const c = capture()
      await expect(sessionsCommand.run(['export', kept.id, target, '--store', storePath], c.io), target).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    }
    // --store naming a symlink: the real store's -wal is protected too
    fs.symlinkSync(storePath, path.join(tmp, 'alias.sqlite'))
    const c = capture()
    await expect(sessionsCommand.run(['export', kept.id, `${storePath}-wal`, '--store', path.join(tmp, 'alias.sqlite')], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(sessionsCommand.run(['export', kept.id, path.join(tmp, 'alias.sqlite-shm'), '--store', path.join(tmp, 'alias.sqlite')], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(fs.readFileSync(storePath).equals(before)).toBe(true)
    expect(fs.lstatSync(path.join(tmp, 'link.dlab')).isSymbolicLink()).toBe(true)
    const list = await cli('sessions', 'list', '--json', '--store', storePath)
    expect(list.stderr).toBe('')
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((s) => s.id).sort()).toEqual([kept.id, other.id].sort())
    // a regular file elsewhere is still written (through a temporary file renamed over it)
    fs.writeFileSync(path.join(tmp, 'old.dlab'), 'old')
    expect((await cli('sessions', 'export', kept.id, path.join(tmp, 'old.dlab'), '--store', storePath)).code).toBe(0)
    expect(fs.readFileSync(path.join(tmp, 'old.dlab')).subarray(0, 2).toString('latin1')).toBe('PK')
    expect(fs.readdirSync(tmp).filter((f) => f.includes('partial'))).toEqual([])
  })
})

describe('forward --out is never an input (issue 12, item 2)', () => {
  let model: string
  let inputs: string
  beforeEach(() => {
    model = path.join(tmp, 'model')
    fs.cpSync(TOY, model, { recursive: true })
    inputs = path.join(tmp, 'in.json')
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[1, 5, 6, 2]] }))
  })

  const refuse = async (out: string, message: RegExp) => {
    const c = capture()
    await expect(forwardCommand.run([model, '--inputs', inputs, '--out', out], c.io), out).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(message) })
  }

  it('refuses the model\'s own files, new files in its folder, the inputs file, symlinks, FIFOs and devices; nothing changes', async () => {
    const weights = path.join(model, 'model.safetensors')
    const weightsBefore = fs.readFileSync(weights)
    const inputsBefore = fs.readFileSync(inputs)
    await refuse(weights, /model folder/)
    await refuse(path.join(model, 'config.json'), /model folder/)
    await refuse(path.join(model, 'new.safetensors'), /model folder/)
    await refuse(path.join(tmp, 'model', '..', 'model', 'model.safetensors'), /model folder/)
    await refuse(inputs, /input of this command/)
    fs.symlinkSync(inputs, path.join(tmp, 'to-inputs.safetensors'))
    await refuse(path.join(tmp, 'to-inputs.safetensors'), /symbolic link/)
    fs.symlinkSync(path.join(tmp, 'elsewhere'), path.join(tmp, 'dangling.safetensors'))
    await refuse(path.join(tmp, 'dangling.safetensors'), /symbolic link/)
    fs.linkSync(inputs, path.join(tmp, 'hard.safetensors'))
    await refuse(path.join(tmp, 'hard.safetensors'), /input of this command/)
    execFileSync('mkfifo', [path.join(tmp, 'fifo')])
    await refuse(path.join(tmp, 'fifo'), /not a regular file/)
    if (process.getuid?.() === 0) {
      execFileSync('mknod', [path.join(tmp, 'null'), 'c', '1', '3'])
      await refuse(path.join(tmp, 'null'), /not a regular file/)
      expect(fs.statSync(path.join(tmp, 'null')).isCharacterDevice()).toBe(true)
    }
    expect(fs.readFileSync(weights).equals(weightsBefore)).toBe(true)
    expect(fs.readFileSync(inputs).equals(inputsBefore)).toBe(true)
    expect(fs.readdirSync(model).sort()).toEqual(fs.readdirSync(TOY).sort())
    expect(fs.lstatSync(path.join(tmp, 'to-inputs.safetensors')).isSymbolicLink()).toBe(true)
    expect(fs.statSync(path.join(tmp, 'fifo')).isFIFO()).toBe(true)
  })

  it('refuses a file the model folder links to (a Hugging Face cache snapshot points into ../blobs)', async () => {
    const blobs = path.join(tmp, 'blobs')
    const snapshot = path.join(tmp, 'snapshot')
    fs.mkdirSync(blobs)
    fs.mkdirSync(snapshot)
    for (const file of fs.readdirSync(TOY)) {
      fs.copyFileSync(path.join(TOY, file), path.join(blobs, `blob-${file}`))
      fs.symlinkSync(path.join('..', 'blobs', `blob-${file}`), path.join(snapshot, file))
    }
    const c = capture()
    await expect(forwardCommand.run([snapshot, '--inputs', inputs, '--out', path.join(blobs, 'blob-model.safetensors')], c.io)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/model folder's model\.safetensors/),
    })
    expect(fs.readFileSync(path.join(blobs, 'blob-model.safetensors')).equals(fs.readFileSync(path.join(TOY, 'model.safetensors')))).toBe(true)
  })

  it('writes a regular file through a temporary file in the same folder, leaving nothing else', async () => {
    const out = path.join(tmp, 'out', 'x.safetensors')
    fs.mkdirSync(path.dirname(out))
    fs.writeFileSync(out, 'old contents')
    const c = capture()
    expect(await forwardCommand.run([model, '--inputs', inputs, '--out', out], c.io)).toBe(0)
    expect(JSON.parse(c.out())).toMatchObject({ out, batch: 1, length: 4 })
    expect(fs.readdirSync(path.dirname(out))).toEqual(['x.safetensors'])
    expect(fs.statSync(out).size).toBeGreaterThan(1000)
  })
})

describe('input files are regular files of bounded size (the CLI side of issue 12, item 6)', () => {
  it('a FIFO or a link to /dev/zero as --inputs, --config or --experiment is refused at once, without hanging', async () => {
    const fifo = path.join(tmp, 'in.json')
    execFileSync('mkfifo', [fifo])
    const zero = path.join(tmp, 'zero.json')
    fs.symlinkSync('/dev/zero', zero)
    const c = capture()
    const started = Date.now()
    for (const file of [fifo, zero]) {
      await expect(forwardCommand.run([TOY, '--inputs', file, '--out', path.join(tmp, 'o.safetensors')], c.io), file).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/not a regular file/) })
      await expect(benchCommand.run(['--config', file, '--seq', '8'], c.io), file).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/not a regular file/) })
      await expect(trainCommand.run(['--experiment', file, '--store', path.join(tmp, 'lab.sqlite')], c.io), file).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/not a regular file/) })
    }
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(fs.existsSync(path.join(tmp, 'lab.sqlite'))).toBe(false)
  })
})

describe('stored text is escaped in human-readable output, JSON stays JSON (issue 12, item 10)', () => {
  it('sessions list/show/import/delete/restore print names, notes, tags, run names, errors and backends without control characters', async () => {
    const hostile = 'evil\u001b]0;owned\u0007\u001b]52;c;Y2xpcA==\u0007\r\u009b31mred\u009d8;;x\u001b\\'
    const storePath = path.join(tmp, 'lab.sqlite')
    const store = openStore(storePath)
    const session = store.createSession({ name: `name ${hostile}`, notes: `line one\nnote ${hostile}`, tags: [`tag ${hostile}`] })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: `run ${hostile}`, config: {}, backend: `wasm ${hostile}` })
    store.finishRun(run.id, { status: 'failed', error: `boom ${hostile}` })
    store.close()

    const outputs: string[] = []
    for (const args of [['list'], ['list', '--all'], ['show', session.id]]) {
      const r = await cli('sessions', ...args, '--store', storePath)
      expect(r.code, args.join(' ')).toBe(0)
      outputs.push(r.stdout)
    }
    const file = path.join(tmp, 's.dlab')
    expect((await cli('sessions', 'export', session.id, file, '--store', storePath)).code).toBe(0)
    const other = path.join(tmp, 'other.sqlite')
    const imported = await cli('sessions', 'import', file, '--store', other)
    expect(imported.code).toBe(0)
    outputs.push(imported.stdout)
    const deleted = await cli('sessions', 'delete', session.id, '--store', other)
    outputs.push(deleted.stdout)
    outputs.push((await cli('sessions', 'restore', session.id, '--store', other)).stdout)
    const missing = await cli('sessions', 'show', `x${hostile}`, '--store', other)
    expect(missing.code).toBe(1)
    outputs.push(missing.stderr)
    for (const text of outputs) {
      expect(text).not.toMatch(RAW_CONTROL)
      expect(text).toContain('\\e]0;owned\\a')
    }
    const show = outputs[2]
    for (const part of ['name evil', 'note evil', 'tag evil', 'run evil', 'boom evil', 'wasm evil']) expect(show).toContain(part)
    expect(show).toContain('line one\nnote') // the note's own line break stays

    const json = await cli('sessions', 'show', session.id, '--json', '--store', storePath)
    expect(json.stdout).not.toMatch(RAW_CONTROL)
    const parsed = JSON.parse(json.stdout) as { session: { name: string; notes: string } }
    expect(parsed.session.name).toBe(`name ${hostile}`)
    expect(parsed.session.notes).toBe(`line one\nnote ${hostile}`)
  })

  it('safeText and toJsonText: every C0, DEL, C1 and bidi control is visible; JSON parses back to the same value', () => {
    const all = Array.from({ length: 0xa0 }, (_, k) => String.fromCharCode(k)).join('') + '\u202e\u2066\u2028'
    expect(safeText(all)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2066\u2028]/)
    expect(safeText('plain ✓ text')).toBe('plain ✓ text')
    const json = toJsonText({ s: all })
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u2066\u2028]/)
    expect(JSON.parse(json)).toEqual({ s: all })
  })
})

describe('arguments are read strictly (issue 12, item 14)', () => {
  it('bench --preset __proto__ (and other Object keys) is a typed error naming the input', async () => {
    for (const preset of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await cli('bench', '--preset', preset, '--seq', '8', '--repeats', '1')
      expect(r.code, preset).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`^error \\[BAD_REQUEST\\]: --preset must be one of .* \\(got "${preset}"\\)`))
      expect(r.stdout).toBe('')
    }
  })

  it('--store "" is an error, not the default store', async () => {
    const c = capture()
    await expect(sessionsCommand.run(['list', '--store', ''], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--store is empty/) })
    await expect(trainCommand.run(['--experiment', 'terms', '--budget', 'smoke', '--store', ''], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--store is empty/) })
    await expect(trainCommand.run(['--experiment', 'terms', '--budget', 'smoke', '--session', '', '--store', path.join(tmp, 'lab.sqlite')], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    expect(c.out()).toBe('')
  })

  it('--seq 0x10, --seq 1e1, --seeds 1e1 and friends are refused: integers in plain decimal only', async () => {
    const c = capture()
    for (const seq of ['0x10', '1e1', '16.0', '+16', '-1', '0', '', '8,,16', '0b11', 'Infinity', '99999999999999999999']) {
      await expect(benchCommand.run(['--preset', 'tiny', `--seq=${seq}`, '--repeats', '1'], c.io), seq).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--seq/) })
    }
    for (const repeats of ['1e1', '0x2', '2.5']) {
      await expect(benchCommand.run(['--preset', 'tiny', '--seq', '8', '--repeats', repeats], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--repeats/) })
    }
    for (const seeds of ['1e1', '0x3', '2.0', '21', '0']) {
      await expect(trainCommand.run(['--experiment', 'terms', '--seeds', seeds, '--store', path.join(tmp, 'lab.sqlite')], c.io), seeds).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--seeds/) })
    }
    const inputs = path.join(tmp, 'in.json')
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[1, 5, 2]] }))
    await expect(forwardCommand.run([TOY, '--inputs', inputs, '--out', path.join(tmp, 'o.safetensors'), '--mask-id', '0x3'], c.io)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/--mask-id/) })
    expect(fs.existsSync(path.join(tmp, 'lab.sqlite'))).toBe(false)
    expect(c.out()).toBe('')
  })

  it('parseInteger accepts plain decimal digits within the range only', () => {
    expect(parseInteger('128', '--seq', { min: 1 })).toBe(128)
    expect(parseInteger('007', '--seq', { min: 1 })).toBe(7)
    expect(integerListOption('64, 128', '--seq', [], { min: 1 })).toEqual([64, 128])
    expect(() => parseInteger('5', '--seeds', { min: 1, max: 4 })).toThrow(/--seeds must be 1 to 4 \(got 5\)/)
    for (const bad of ['1e1', ' 8', '8 ', '0x8', '8.0', '', '-0']) expect(() => parseInteger(bad, '--seeds', { min: 0 }), bad).toThrow(/not a whole number in plain decimal digits/)
  })
})
