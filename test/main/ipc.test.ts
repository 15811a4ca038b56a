// Electron glue under Node: the IPC binding and the host handlers, against a fake ipcMain and dialogs. (Every
// method over the whole IPC path, preload bridge included, is in transports.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOST_CHANNELS } from '../../src/common/api'
import type { Result } from '../../src/common/errors'
import { bindHost, type DialogsLike } from '../../src/main/host'
import { bindLabApi, type IpcEventLike, type IpcMainLike } from '../../src/main/ipc'
import { isTrustedUrl, rendererFileUrl } from '../../src/main/security'
import { createLabService, type LabService } from '../../src/lab/service'

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>()
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  invoke(channel: string, url: string | undefined, ...args: unknown[]): Promise<Result<unknown>> {
    const handler = this.handlers.get(channel)
    if (!handler) throw new Error(`no handler for ${channel}`)
    return handler({ senderFrame: url === undefined ? null : { url } }, ...args) as Promise<Result<unknown>>
  }
}

const ownPage = rendererFileUrl('/opt/deberta-lab/resources/app/out/renderer/index.html')
const isTrusted = (url: string) => isTrustedUrl(url, { rendererFileUrl: ownPage })
let dir: string
let lab: LabService
const ipc = new FakeIpcMain()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-ipc-'))
  lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'electron' })
  bindLabApi(ipc, lab, isTrusted)
})
afterAll(async () => {
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('IPC binding of the lab service', () => {
  it('answers the app page with data', async () => {
    const result = await ipc.invoke('lab:createSession', ownPage, { name: 'from ipc' })
    expect(result.ok).toBe(true)
    expect((result as { value: { name: string } }).value.name).toBe('from ipc')
  })

  it('refuses frames that are not the app page, before touching the lab', async () => {
    const before = (await lab.listSessions()).length
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', undefined]) {
      const result = await ipc.invoke('lab:createSession', url, { name: 'x' })
      expect(result).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    }
    expect((await lab.listSessions()).length).toBe(before)
  })

  it('returns invalid payloads as BAD_REQUEST data, not exceptions', async () => {
    const result = await ipc.invoke('lab:renameSession', ownPage, { sessionId: 'x', name: '' })
    expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
    const extra = await ipc.invoke('lab:createSession', ownPage, { name: 'a', injected: true })
    expect(extra).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
  })

  it('carries lab errors as { code, message }', async () => {
    const result = await ipc.invoke('lab:openSession', ownPage, 'no-such-session')
    expect(result).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } })
  })
})

describe('security helpers', () => {
  it('trusts only the built index.html and a localhost dev server', () => {
    expect(isTrusted(ownPage)).toBe(true)
    expect(isTrusted(ownPage + '#/attention')).toBe(true)
    expect(isTrusted('file:///etc/passwd')).toBe(false)
    expect(isTrusted('http://127.0.0.1:5173/')).toBe(false)
    const dev = { rendererFileUrl: ownPage, devServerUrl: 'http://localhost:5173' }
    expect(isTrustedUrl('http://localhost:5173/index.html', dev)).toBe(true)
    expect(isTrustedUrl('http://localhost:5174/', dev)).toBe(false)
    expect(isTrustedUrl('not a url', dev)).toBe(false)
  })
})

describe('host handlers', () => {
  it('saves through the save dialog, and reports a cancelled dialog', async () => {
    const hostIpc = new FakeIpcMain()
    const target = join(dir, 'chart.png')
    let answer: { canceled: boolean; filePath?: string } = { canceled: false, filePath: target }
    let title = ''
    const dialogs: DialogsLike = {
      showSaveDialog: async () => answer,
      showOpenDialog: async () => ({ canceled: false, filePaths: [target] }),
    }
    bindHost(hostIpc, dialogs, (t) => (title = t), isTrusted)
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47])
    const saved = await hostIpc.invoke(HOST_CHANNELS.saveFile, ownPage, { suggestedName: 'chart.png', mime: 'image/png', base64: png.toString('base64') })
    expect(saved).toEqual({ ok: true, value: { saved: true, path: target } })
    expect(readFileSync(target)).toEqual(png)
    const opened = await hostIpc.invoke(HOST_CHANNELS.openFile, ownPage, { accept: ['.png'] })
    expect(opened).toEqual({ ok: true, value: { name: 'chart.png', base64: png.toString('base64') } })
    answer = { canceled: true }
    writeFileSync(target, 'unchanged')
    const cancelled = await hostIpc.invoke(HOST_CHANNELS.saveFile, ownPage, { suggestedName: 'chart.png', mime: 'image/png', base64: png.toString('base64') })
    expect(cancelled).toEqual({ ok: true, value: { saved: false } })
    expect(readFileSync(target, 'utf8')).toBe('unchanged')
    await hostIpc.invoke(HOST_CHANNELS.setTitle, ownPage, 'Session — DeBERTa Lab')
    expect(title).toBe('Session — DeBERTa Lab')
    const refused = await hostIpc.invoke(HOST_CHANNELS.setTitle, 'https://evil.example/', 'x')
    expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
  })
})
