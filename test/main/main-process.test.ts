// The Electron composition root (src/main/index.ts) under Node, with a fake `electron` module:
// single instance, a sandboxed and isolated window, navigation and new windows denied, every LabApi
// method bound, remembered window bounds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { LAB_API_METHODS, HOST_CHANNELS, ipcChannel } from '../../src/common/api'

const userData = mkdtempSync(join(tmpdir(), 'deberta-lab-electron-'))
process.env.DEBERTA_LAB_STORE = join(userData, 'lab.sqlite')

const fake = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown
  const appListeners = new Map<string, Listener[]>()
  const windows: FakeWindow[] = []
  const handlers = new Map<string, Listener>()
  class FakeWebContents {
    listeners = new Map<string, Listener>()
    openHandler?: (details: { url: string }) => unknown
    sent: unknown[] = []
    on(event: string, listener: Listener) {
      this.listeners.set(event, listener)
    }
    setWindowOpenHandler(handler: (details: { url: string }) => unknown) {
      this.openHandler = handler
    }
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload])
    }
  }
  class FakeWindow {
    static getAllWindows = () => windows
    webContents = new FakeWebContents()
    focused = 0
    loaded = ''
    constructor(public options: Record<string, unknown>) {
      windows.push(this)
    }
    once() {}
    on() {}
    maximize() {}
    isMinimized() {
      return false
    }
    restore() {}
    focus() {
      this.focused++
    }
    setTitle() {}
    loadFile(path: string) {
      this.loaded = path
      return Promise.resolve()
    }
    loadURL(url: string) {
      this.loaded = url
      return Promise.resolve()
    }
  }
  let ready: () => void = () => undefined
  const whenReadyPromise = new Promise<void>((resolve) => (ready = resolve))
  const electron = {
    app: {
      isPackaged: false,
      requestSingleInstanceLock: () => true,
      on: (event: string, listener: Listener) => appListeners.set(event, [...(appListeners.get(event) ?? []), listener]),
      whenReady: () => whenReadyPromise,
      getPath: () => process.env.DEBERTA_LAB_FAKE_USERDATA ?? '/tmp',
      getAppPath: () => process.cwd(),
      quit: () => undefined,
      exit: () => undefined,
    },
    BrowserWindow: FakeWindow,
    dialog: { showErrorBox: () => undefined, showSaveDialog: async () => ({ canceled: true }), showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (channel: string, listener: Listener) => handlers.set(channel, listener), removeHandler: (channel: string) => handlers.delete(channel) },
    session: { defaultSession: { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined } },
    Menu: { setApplicationMenu: () => undefined },
  }
  return { electron, appListeners, windows, handlers, ready: () => ready() }
})

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }))

afterAll(() => rmSync(userData, { recursive: true, force: true }))

describe('Electron main process', () => {
  it('opens one secure window and binds the whole LabApi', async () => {
    process.env.DEBERTA_LAB_FAKE_USERDATA = userData
    await import('../../src/main/index')
    fake.ready()
    await vi.waitFor(() => expect(fake.windows.length).toBe(1), { timeout: 30_000 })
    const [window] = fake.windows
    const prefs = window.options.webPreferences as Record<string, unknown>
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, webviewTag: false })
    expect(String(prefs.preload)).toMatch(/preload[\\/]index\.cjs$/)
    expect(window.loaded).toMatch(/renderer[\\/]index\.html$/)
    for (const method of LAB_API_METHODS) expect(fake.handlers.has(ipcChannel(method))).toBe(true)
    for (const channel of Object.values(HOST_CHANNELS)) expect(fake.handlers.has(channel)).toBe(true)
  }, 60_000)

  it('denies new windows and navigation away from the app', () => {
    const created = fake.appListeners.get('web-contents-created')?.[0]
    expect(created).toBeDefined()
    const contents = fake.windows[0].webContents
    created!({}, contents)
    expect(contents.openHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' })
    let prevented = false
    contents.listeners.get('will-navigate')!({ preventDefault: () => (prevented = true) }, 'https://example.com')
    expect(prevented).toBe(true)
  })

  it('focuses the first window when the app is launched again', () => {
    const second = fake.appListeners.get('second-instance')?.[0]
    second!()
    expect(fake.windows[0].focused).toBe(1)
    expect(fake.windows.length).toBe(1)
  })
})
