// The lab's model-finding side: found models, Hub downloads as cancellable jobs with progress events, the
// browser-mode folder listing. Downloads run on the service's thread (network and disk I/O, no compute).
import { randomUUID } from 'node:crypto'
import { homedir } from 'node:os'
import type { DirectoryListing, DownloadModelRequest, DownloadModelResult, ModelListing, ModelRef } from '../../common/api'
import { LabError, toErrorData } from '../../common/errors'
import type { EventHub } from '../events'
import { listDirectory } from './directory'
import { downloadModel } from './download'
import { listFoundModels } from './found-models'
import { recentFileFor, rememberRecentFolder } from './recent'

export { downloadModel, selectFiles } from './download'
export { listFoundModels, scanHubCache } from './found-models'
export { inspectModelFolder } from './inspect'
export { hubCacheDir, hubEndpoint, repoFolderName } from './cache-layout'
export { recentFileFor } from './recent'

export interface HubServiceOptions {
  resourcesDir: string
  storePath: string
  events: EventHub
  /** the folder picker's root; default the user's home */
  homeDir?: string
  env?: NodeJS.ProcessEnv
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  return `${(bytes / 1e3).toFixed(1)} kB`
}

export function createHubService(options: HubServiceOptions) {
  const running = new Map<string, { controller: AbortController; repoId: string }>()
  const recentFile = recentFileFor(options.storePath)
  return {
    async listModels(): Promise<ModelListing> {
      return listFoundModels({ resourcesDir: options.resourcesDir, recentFile, env: options.env })
    },
    async downloadModel(request: DownloadModelRequest): Promise<DownloadModelResult> {
      const jobId = request.jobId ?? randomUUID()
      if (running.has(jobId)) throw new LabError('BUSY', `a job with id ${jobId} is already running`)
      if ([...running.values()].some((r) => r.repoId === request.repoId)) throw new LabError('BUSY', `${request.repoId} is already being downloaded`)
      const controller = new AbortController()
      running.set(jobId, { controller, repoId: request.repoId })
      const { events } = options
      try {
        const result = await downloadModel({
          repoId: request.repoId,
          revision: request.revision,
          env: options.env,
          signal: controller.signal,
          onProgress: (download) => {
            const fraction = download.totalBytes > 0 ? download.bytes / download.totalBytes : 0
            const message = `${download.file} (${download.fileIndex + 1}/${download.fileCount}) · ${formatBytes(download.bytes)} of ${formatBytes(download.totalBytes)} · ${formatBytes(download.bytesPerSecond)}/s`
            events.emit({ type: 'progress', jobId, fraction, message, download })
          },
        })
        events.emit({ type: 'job-end', jobId, status: 'done' })
        return result
      } catch (error) {
        const data = toErrorData(error)
        events.emit({ type: 'job-end', jobId, status: data.code === 'CANCELLED' ? 'cancelled' : 'failed', error: data })
        throw error
      } finally {
        running.delete(jobId)
      }
    },
    async listDirectory(request: { path?: string; hidden?: boolean }): Promise<DirectoryListing> {
      return listDirectory(options.homeDir ?? homedir(), request)
    },
    /** Cancels a running download; false when no download has that job id. */
    cancel(jobId: string): boolean {
      const entry = running.get(jobId)
      if (!entry) return false
      entry.controller.abort()
      return true
    },
    /** Records a checkpoint folder that loaded, for the "recent" entries. */
    remember(ref: ModelRef): void {
      if (ref.kind === 'checkpoint' && recentFile) rememberRecentFolder(recentFile, ref.path)
    },
  }
}
