// `deberta-lab models list [--json]` and `deberta-lab models download <repo-id> [--revision R]`: the models found on
// this computer, and downloads from the Hugging Face Hub into the cache Python tools share (src/lab/hub).
import { LabError } from '../../common/errors'
import type { DownloadProgress, FoundModel } from '../../common/api'
import { downloadModel, listFoundModels, recentFileFor } from '../../lab/hub'
import { resolveAppPaths } from '../../lab/paths'
import { parseCommandArgs } from '../args'
import type { CliCommand, CliIo } from '../types'

const USAGE = `Usage: deberta-lab models <command> [options]

Commands:
  list                       DeBERTa and BERT models found on this computer: bundled, in the Hugging Face
                             cache, and folders used recently; broken ones with the reason
  download <repo-id>         fetch config, weights (model.safetensors, else pytorch_model.bin) and tokenizer
                             files into the Hugging Face cache; resumes a partial download

Options:
  --json                     list: machine-readable output ({cacheDir, models: [...], otherRepos})
  --revision R               download: branch, tag or commit (default main)
  --store PATH               experiment store whose recent-folder list is read (as for sessions)

Environment: HF_HUB_CACHE (else HF_HOME/hub, else ~/.cache/huggingface/hub), HF_ENDPOINT (a mirror),
HF_TOKEN (private and gated models), HF_HUB_OFFLINE=1 (cache only).`

const OPTIONS = { json: { type: 'boolean' }, revision: { type: 'string' }, store: { type: 'string' } } as const

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`
  return `${bytes} B`
}

function formatParameters(count: number | undefined): string {
  if (count === undefined) return '?'
  if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e8 ? 0 : 1)}M`
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`
  return String(count)
}

function describeLine(model: FoundModel): string {
  const where = model.commit ? `@${model.refs?.length ? model.refs.join(',') : model.commit.slice(0, 10)}` : ''
  const head = model.emd ? 'MLM head + EMD' : model.mlmHead ? 'MLM head' : 'no MLM head'
  const facts = [model.modelType ?? '?', formatBytes(model.sizeBytes), `${formatParameters(model.parameterCount)} parameters`, head, model.tokenizer ? `tokenizer ${model.tokenizer}` : 'no tokenizer']
  const line = `${model.source.padEnd(7)}  ${model.name}${where}  ${facts.join(' · ')}\n          ${model.path}`
  return model.broken ? `${line}\n          BROKEN: ${model.broken}` : line
}

async function list(values: { json?: boolean; store?: string }, io: CliIo): Promise<number> {
  const paths = resolveAppPaths({ storeFlag: values.store })
  const listing = listFoundModels({ resourcesDir: paths.resourcesDir, recentFile: recentFileFor(paths.storePath) })
  if (values.json) {
    io.stdout(JSON.stringify(listing, null, 2) + '\n')
    return 0
  }
  io.stdout(`Hugging Face cache: ${listing.cacheDir}\n\n`)
  io.stdout(listing.models.map(describeLine).join('\n') + '\n')
  if (listing.otherRepos > 0) io.stdout(`\n(${listing.otherRepos} other model${listing.otherRepos === 1 ? '' : 's'} in the cache are not DeBERTa or BERT)\n`)
  return 0
}

async function download(repoId: string, revision: string | undefined, io: CliIo): Promise<number> {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  let last = ''
  try {
    const result = await downloadModel({
      repoId,
      revision,
      signal: controller.signal,
      onProgress: (p: DownloadProgress) => {
        const line = `${p.file} (${p.fileIndex + 1}/${p.fileCount})  ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}  ${formatBytes(p.bytesPerSecond)}/s`
        if (line !== last) io.stderr(`\r${line.padEnd(last.length)}`)
        last = line
      },
    })
    if (last) io.stderr('\n')
    for (const file of result.files) io.stderr(`${file.cached ? 'cached    ' : 'downloaded'}  ${file.name}  ${formatBytes(file.size)}\n`)
    io.stderr(`${result.repoId}@${result.revision} = commit ${result.commit}: ${formatBytes(result.bytesDownloaded)} downloaded in ${(result.milliseconds / 1000).toFixed(1)} s\n`)
    io.stdout(result.path + '\n')
    return 0
  } finally {
    process.off('SIGINT', stop)
  }
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'list the DeBERTa/BERT models on this computer; download one from the Hugging Face Hub',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE)
    const [sub, ...rest] = positionals
    if (sub === 'list' && rest.length === 0) return list(values, io)
    if (sub === 'download' && rest.length === 1) return download(rest[0], values.revision, io)
    throw new LabError('BAD_REQUEST', `${sub === undefined ? 'missing command' : `unexpected arguments: ${positionals.join(' ')}`}\n\n${USAGE}`)
  },
}
