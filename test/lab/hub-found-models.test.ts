// Models found on this computer (bundled, Hugging Face cache, recent folders) with their facts, broken entries
// with the reason; and the folder listing of browser mode's picker (home and below only).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { hubCacheDir, listFoundModels } from '../../src/lab/hub'
import { listDirectory } from '../../src/lab/hub/directory'
import { rememberRecentFolder } from '../../src/lab/hub/recent'
import { FIXTURES } from './fake-hub'

const RESOURCES = path.resolve(__dirname, '../../resources')
let tmp: string
let cache: string

/** A cache snapshot with the given files copied into blobs and linked, as huggingface_hub lays them out. */
function snapshot(repo: string, commit: string, files: Record<string, string | Buffer>, refs: Record<string, string> = {}): string {
  const repoDir = path.join(cache, `models--${repo.replace('/', '--')}`)
  const snap = path.join(repoDir, 'snapshots', commit)
  fs.mkdirSync(snap, { recursive: true })
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true })
  for (const [name, content] of Object.entries(files)) {
    const blob = path.join(repoDir, 'blobs', `${commit.slice(0, 8)}-${name}`)
    fs.writeFileSync(blob, content)
    fs.symlinkSync(path.relative(snap, blob), path.join(snap, name))
  }
  for (const [ref, target] of Object.entries(refs)) {
    fs.mkdirSync(path.dirname(path.join(repoDir, 'refs', ref)), { recursive: true })
    fs.writeFileSync(path.join(repoDir, 'refs', ref), target)
  }
  return snap
}

const fixture = (...parts: string[]) => fs.readFileSync(path.join(FIXTURES, ...parts))
const v3Files = () => ({
  'config.json': fixture('deberta-v3-tiny', 'config.json'),
  'model.safetensors': fixture('deberta-v3-tiny', 'model.safetensors'),
  'spm.model': fixture('tokenizer-spm', 'spm.model'),
  'tokenizer_config.json': fixture('tokenizer-spm', 'tokenizer_config.json'),
  'added_tokens.json': fixture('tokenizer-spm', 'added_tokens.json'),
})

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-found-'))
  cache = path.join(tmp, 'cache')
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('the cache location', () => {
  it('is HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a')
    expect(hubCacheDir({ HF_HOME: '/b' })).toBe(path.join('/b', 'hub'))
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'huggingface', 'hub'))
    expect(hubCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'huggingface', 'hub'))
  })
})

describe('found models', () => {
  it('lists bundled, cached and recent models with their facts, and broken ones with the reason', () => {
    const good = snapshot('microsoft/deberta-v3-tiny', 'c'.repeat(40), v3Files(), { main: 'c'.repeat(40), 'refs/pr/1': 'c'.repeat(40) })
    // a dangling link (the blob was deleted), and a ref with a newline at the end (hand-edited)
    const dangling = snapshot('acme/dangling', 'd'.repeat(40), v3Files(), { main: `${'d'.repeat(40)}\n` })
    fs.rmSync(fs.realpathSync(path.join(dangling, 'model.safetensors')))
    // a ref to a snapshot that is not there, no tokenizer, a BERT with a cls head, someone else's model
    snapshot('acme/orphan-ref', 'e'.repeat(40), { ...v3Files() }, { main: 'f'.repeat(40) })
    const noTok = v3Files() as Record<string, Buffer>
    delete noTok['spm.model']
    snapshot('acme/no-tokenizer', '1'.repeat(40), noTok)
    snapshot('openai-community/gpt2', '2'.repeat(40), { 'config.json': JSON.stringify({ model_type: 'gpt2' }), 'model.safetensors': Buffer.alloc(16) })
    fs.mkdirSync(path.join(cache, 'models--acme--empty'), { recursive: true })
    fs.mkdirSync(path.join(cache, '.locks'), { recursive: true })
    fs.mkdirSync(path.join(cache, 'datasets--acme--data', 'snapshots'), { recursive: true })

    const recentFile = path.join(tmp, 'recent-models.json')
    const recentDir = path.join(tmp, 'my-v1')
    fs.mkdirSync(recentDir)
    fs.copyFileSync(path.join(FIXTURES, 'deberta-v1-tiny', 'config.json'), path.join(recentDir, 'config.json'))
    fs.copyFileSync(path.join(FIXTURES, 'deberta-v1-tiny', 'pytorch_model.bin'), path.join(recentDir, 'pytorch_model.bin'))
    fs.copyFileSync(path.join(RESOURCES, 'toy-deberta', 'tokenizer.json'), path.join(recentDir, 'tokenizer.json'))
    rememberRecentFolder(recentFile, path.join(tmp, 'gone'))
    rememberRecentFolder(recentFile, recentDir)
    rememberRecentFolder(recentFile, good) // already listed from the cache: not repeated

    const listing = listFoundModels({ resourcesDir: RESOURCES, recentFile, env: { HF_HUB_CACHE: cache } })
    expect(listing.cacheDir).toBe(cache)
    expect(listing.otherRepos).toBe(1)
    const byName = (name: string) => listing.models.filter((m) => m.name === name)
    expect(listing.models.map((m) => `${m.source}:${m.name}`)).toEqual([
      'bundled:toy-deberta',
      'cache:acme/dangling',
      'cache:acme/empty',
      'cache:acme/no-tokenizer',
      'cache:acme/orphan-ref',
      'cache:acme/orphan-ref',
      'cache:microsoft/deberta-v3-tiny',
      'recent:my-v1',
      'recent:gone',
    ])
    expect(byName('toy-deberta')[0]).toMatchObject({ ref: { kind: 'bundled', name: 'toy-deberta' }, modelType: 'deberta-v2', mlmHead: 'official', emd: true, tokenizer: 'tokenizer-json' })
    expect(byName('microsoft/deberta-v3-tiny')[0]).toMatchObject({ refs: ['main', 'refs/pr/1'], parameterCount: 56_720, mlmHead: 'official', emd: true, tokenizer: 'sentencepiece', ref: { kind: 'checkpoint', path: good } })
    const [danglingEntry] = byName('acme/dangling')
    expect(danglingEntry.ref).toBeNull()
    expect(danglingEntry.refs).toEqual(['main'])
    expect(danglingEntry.broken).toMatch(/model\.safetensors: the file it links to is missing/)
    expect(danglingEntry.broken).not.toContain('model files missing') // said once, not again by the folder check
    expect(byName('acme/empty')[0].broken).toMatch(/no snapshot/)
    expect(byName('acme/no-tokenizer')[0].broken).toMatch(/no tokenizer/)
    expect(byName('acme/no-tokenizer')[0].parameterCount).toBe(56_720)
    expect(byName('acme/orphan-ref')[0].broken).toBeUndefined()
    expect(byName('acme/orphan-ref')[1].broken).toBe(`refs/main points at commit ${'f'.repeat(40)}, which is not in snapshots/`)
    expect(byName('my-v1')[0]).toMatchObject({ modelType: 'deberta', mlmHead: 'official', emd: true, weightsFile: 'pytorch_model.bin', parameterCount: 38_880 })
    expect(byName('my-v1')[0].broken).toBeUndefined()
    expect(byName('gone')[0]).toMatchObject({ ref: null, broken: 'the folder no longer exists' })
  })

  it('reads a missing cache as empty', () => {
    const listing = listFoundModels({ resourcesDir: RESOURCES, env: { HF_HUB_CACHE: path.join(tmp, 'nowhere') } })
    expect(listing.models.map((m) => m.source)).toEqual(['bundled'])
  })
})

describe('folder listing for the browser-mode picker', () => {
  it('lists home and below, folders first, marks model folders, refuses paths and links that leave home', () => {
    const home = path.join(tmp, 'home')
    const outside = path.join(tmp, 'outside')
    fs.mkdirSync(path.join(home, 'models', 'v3'), { recursive: true })
    fs.mkdirSync(outside, { recursive: true })
    fs.writeFileSync(path.join(home, 'models', 'v3', 'config.json'), '{}')
    fs.writeFileSync(path.join(home, 'notes.txt'), 'x')
    fs.mkdirSync(path.join(home, '.hidden'))
    fs.symlinkSync(outside, path.join(home, 'escape'))
    fs.symlinkSync(path.join(home, 'models'), path.join(home, 'shortcut'))

    const top = listDirectory(home, {})
    expect(top.path).toBe(fs.realpathSync(home))
    expect(top.parent).toBeNull()
    expect(top.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['directory:models', 'directory:shortcut', 'file:notes.txt'])
    expect(listDirectory(home, { hidden: true }).entries.map((e) => e.name)).toContain('.hidden')
    const models = listDirectory(home, { path: path.join(home, 'models') })
    expect(models.parent).toBe(fs.realpathSync(home))
    expect(models.entries).toEqual([{ name: 'v3', path: path.join(fs.realpathSync(home), 'models', 'v3'), kind: 'directory', model: true }])
    const refused = (request: { path?: string }) => {
      try {
        listDirectory(home, request)
      } catch (error) {
        return (error as LabError).code
      }
      return 'listed'
    }
    expect(refused({ path: outside })).toBe('FORBIDDEN')
    expect(refused({ path: path.join(home, 'escape') })).toBe('FORBIDDEN')
    expect(refused({ path: path.join(home, '..') })).toBe('FORBIDDEN')
    expect(refused({ path: '/' })).toBe('FORBIDDEN')
    expect(refused({ path: path.join(home, 'notes.txt') })).toBe('INPUT_INVALID')
    expect(refused({ path: path.join(home, 'missing') })).toBe('NOT_FOUND')
    expect(refused({ path: path.join(home, 'shortcut') })).toBe('listed')
  })
})
