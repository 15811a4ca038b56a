// Host abilities of the desktop app: save/open dialogs, folder picker, window title.
// Bound on `host:*` channels with the same sender check and error-as-data convention as the lab.
import { readFile, stat, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { z } from 'zod'
import { HOST_CHANNELS } from '../common/api'
import { LabError } from '../common/errors'
import { guarded, type IpcMainLike, type SenderCheck } from './ipc'

/** The dialogs we need from Electron (a fake in tests). */
export interface DialogsLike {
  showSaveDialog(options: { defaultPath: string; filters: Array<{ name: string; extensions: string[] }> }): Promise<{ canceled: boolean; filePath?: string }>
  showOpenDialog(options: {
    properties: Array<'openFile' | 'openDirectory'>
    filters?: Array<{ name: string; extensions: string[] }>
  }): Promise<{ canceled: boolean; filePaths: string[] }>
}

const MAX_OPEN_BYTES = 200 * 1024 * 1024

const saveSchema = z.strictObject({
  suggestedName: z.string().min(1).max(255),
  mime: z.string().max(100),
  base64: z.string().max(300 * 1024 * 1024),
})
const openSchema = z.strictObject({ accept: z.array(z.string().max(20)).max(20) })

export function bindHost(ipcMain: IpcMainLike, dialogs: DialogsLike, setTitle: (title: string) => void, isTrusted: SenderCheck): void {
  ipcMain.handle(
    HOST_CHANNELS.saveFile,
    guarded(isTrusted, async ([request]) => {
      const parsed = saveSchema.safeParse(request)
      if (!parsed.success) throw new LabError('BAD_REQUEST', 'invalid saveFile request')
      const { suggestedName, base64 } = parsed.data
      const extension = suggestedName.includes('.') ? suggestedName.split('.').pop()! : ''
      const result = await dialogs.showSaveDialog({
        defaultPath: basename(suggestedName),
        filters: extension ? [{ name: extension.toUpperCase(), extensions: [extension] }] : [],
      })
      if (result.canceled || !result.filePath) return { saved: false }
      await writeFile(result.filePath, Buffer.from(base64, 'base64'))
      return { saved: true, path: result.filePath }
    }),
  )
  ipcMain.handle(
    HOST_CHANNELS.openFile,
    guarded(isTrusted, async ([request]) => {
      const parsed = openSchema.safeParse(request)
      if (!parsed.success) throw new LabError('BAD_REQUEST', 'invalid openFile request')
      const extensions = parsed.data.accept.map((a) => a.replace(/^\./, ''))
      const result = await dialogs.showOpenDialog({ properties: ['openFile'], filters: extensions.length ? [{ name: 'Files', extensions }] : undefined })
      const path = result.filePaths[0]
      if (result.canceled || !path) return null
      const info = await stat(path)
      if (info.size > MAX_OPEN_BYTES) throw new LabError('IMPORT_TOO_LARGE', `${basename(path)} is ${info.size} bytes, over the ${MAX_OPEN_BYTES}-byte limit`)
      return { name: basename(path), base64: (await readFile(path)).toString('base64') }
    }),
  )
  ipcMain.handle(
    HOST_CHANNELS.pickModelFolder,
    guarded(isTrusted, async () => {
      const result = await dialogs.showOpenDialog({ properties: ['openDirectory'] })
      return result.canceled ? null : (result.filePaths[0] ?? null)
    }),
  )
  ipcMain.handle(
    HOST_CHANNELS.setTitle,
    guarded(isTrusted, async ([title]) => {
      if (typeof title !== 'string' || title.length > 300) throw new LabError('BAD_REQUEST', 'invalid title')
      setTitle(title)
      return null
    }),
  )
}
