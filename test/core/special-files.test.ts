// Model-folder files that are not regular files (a FIFO, a symlink to /dev/zero, a folder) or are too large
// are refused with a typed error naming the file, before anything blocks or allocates: src/core/files.ts.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { configureFileLimits, readRegularFile, readRegularTextFile } from '../../src/core/files'
import { readConfigFile } from '../../src/core/load'
import { loadTokenizerSync } from '../../src/core/tokenizer'

const ROOT = path.resolve(__dirname, '../..')
const TOY = path.join(ROOT, 'resources/toy-deberta')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-special-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function toyCopy(name: string): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  for (const f of fs.readdirSync(TOY)) fs.copyFileSync(path.join(TOY, f), path.join(dir, f))
  return dir
}

function replaceWith(dir: string, file: string, kind: 'fifo' | 'zero'): void {
  const p = path.join(dir, file)
  fs.rmSync(p, { force: true })
  if (kind === 'fifo') {
    const made = spawnSync('mkfifo', [p])
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`)
  } else {
    fs.symlinkSync('/dev/zero', p)
  }
}

/** Loads the folder in a child process with a timeout and a small heap. */
function loadInChild(dir: string): Record<string, string> {
  const child = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', path.join(__dirname, 'special-files-child.ts'), dir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (child.error || child.status !== 0) throw new Error(`the loader did not finish (status ${child.status}, ${child.error?.message ?? ''}): ${child.stderr.slice(-400)}`)
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as Record<string, string>
}

const isPosix = process.platform !== 'win32'

describe.runIf(isPosix)('special files in a model folder', () => {
  it('refuses FIFOs without blocking: tokenizer side files, config.json, the weights', () => {
    const dir = toyCopy('fifo')
    replaceWith(dir, 'tokenizer_config.json', 'fifo')
    replaceWith(dir, 'config.json', 'fifo')
    replaceWith(dir, 'model.safetensors', 'fifo')
    const result = loadInChild(dir)
    expect(result.tokenizer).toMatch(/^TOKENIZER_FORMAT: tokenizer_config\.json \(.*\) is a FIFO \(named pipe\); only regular files are read/)
    expect(result.config).toMatch(/^CONFIG_INVALID: config\.json \(.*\) is a FIFO/)
    expect(result.weights).toMatch(/^CHECKPOINT_FORMAT: .*model\.safetensors is not a regular file/)
    expect(result.maskId).toBe('ok')
  })

  it('refuses a symlink to /dev/zero instead of reading it without end', () => {
    for (const file of ['special_tokens_map.json', 'added_tokens.json', 'tokenizer.json']) {
      const dir = toyCopy(`zero-${file}`)
      replaceWith(dir, file, 'zero')
      const result = loadInChild(dir)
      if (file === 'tokenizer.json') {
        // not a regular file, so the folder has no tokenizer.json at all
        expect(result.tokenizer).toMatch(/^TOKENIZER_NOT_FOUND/)
      } else {
        expect(result.tokenizer).toMatch(new RegExp(`^TOKENIZER_FORMAT: ${file.replace('.', '\\.')} \\(.*\\) is a character device`))
      }
      expect(result.maskId).toBe('ok')
    }
  })
})

describe('size caps', () => {
  let restore: ReturnType<typeof configureFileLimits> | undefined
  afterEach(() => {
    if (restore) configureFileLimits(restore)
    restore = undefined
  })

  it('refuses a side file over its cap, naming the file, its size and the cap', () => {
    const dir = toyCopy('big-side')
    const text = fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')
    restore = configureFileLimits({ tokenizerSideFile: 100 })
    let error: unknown
    try {
      loadTokenizerSync(dir)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(LabError)
    expect((error as LabError).code).toBe('TOKENIZER_FORMAT')
    expect((error as LabError).message).toContain(`tokenizer_config.json (${path.join(dir, 'tokenizer_config.json')}) is ${Buffer.byteLength(text)} bytes; the limit for this file is 100 bytes`)
    expect((error as LabError).details).toMatchObject({ size: Buffer.byteLength(text), maxBytes: 100 })
  })

  it('caps config.json and tokenizer.json with their own limits', () => {
    const dir = toyCopy('big-config')
    restore = configureFileLimits({ config: 10 })
    expect(() => readConfigFile(path.join(dir, 'config.json'))).toThrow(/config\.json .* bytes; the limit for this file is 10 bytes/)
    configureFileLimits({ config: restore.config, tokenizerJson: 1000 })
    expect(() => loadTokenizerSync(dir)).toThrow(/tokenizer\.json .* the limit for this file is 1000 bytes/)
  })

  it('reads a regular file up to the cap exactly, and refuses one byte more', () => {
    const file = path.join(tmp, 'exact.txt')
    fs.writeFileSync(file, 'x'.repeat(5000))
    expect(readRegularTextFile(file, { maxBytes: 5000, what: 'exact.txt' })).toBe('x'.repeat(5000))
    expect(() => readRegularFile(file, { maxBytes: 4999, what: 'exact.txt' })).toThrow(/is 5000 bytes; the limit for this file is 4999 bytes/)
  })

  it('refuses a folder and names a missing file with the caller\'s code', () => {
    expect(() => readRegularFile(tmp, { maxBytes: 10, what: 'the --inputs file', invalidCode: 'INPUT_INVALID' })).toThrow(/the --inputs file \(.*\) is a folder/)
    let error: unknown
    try {
      readRegularFile(path.join(tmp, 'nope.json'), { maxBytes: 10, what: 'config.json', missingCode: 'CHECKPOINT_NOT_FOUND' })
    } catch (e) {
      error = e
    }
    expect((error as LabError).code).toBe('CHECKPOINT_NOT_FOUND')
  })

  it('refuses bad limits', () => {
    expect(() => configureFileLimits({ config: -1 })).toThrow(LabError)
  })
})

describe.runIf(isPosix)('absent side files', () => {
  it('ignores a dangling symlink where a side file would be, as if it were absent', () => {
    const dir = toyCopy('dangling')
    fs.symlinkSync(path.join(dir, 'nowhere.json'), path.join(dir, 'special_tokens_map.json'))
    expect(loadTokenizerSync(dir).special.mask).toBeDefined()
  })
})
