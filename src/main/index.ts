// Electron composition root: single instance, one secure window, the lab service bound to IPC.
import { app, BrowserWindow, dialog, ipcMain, session, Menu } from 'electron'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IPC_EVENT_CHANNEL } from '../common/api'
import { APP_NAME } from '../common/version'
import { loggerForStore } from '../lab/logger'
import { createLabService, type LabService } from '../lab/service'
import { bindHost } from './host'
import { bindLabApi } from './ipc'
import { electronNativeBinding } from './native'
import { hardenWebContents, isTrustedUrl, rendererFileUrl, type TrustedOrigins } from './security'
import { loadWindowBounds, saveWindowBounds } from './window-state'

const here = dirname(fileURLToPath(import.meta.url))
const indexHtml = join(here, '../renderer/index.html')
const origins: TrustedOrigins = {
  rendererFileUrl: rendererFileUrl(indexHtml),
  devServerUrl: !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined,
}
let mainWindow: BrowserWindow | undefined
let lab: LabService | undefined

// A second launch focuses the first window instead of opening the store twice.
if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, origins))
  app.whenReady().then(start, (error: Error) => {
    dialog.showErrorBox(APP_NAME, `Could not start: ${error.message}`)
    app.exit(1)
  })
}

function resourcesDir(): string {
  if (app.isPackaged) {
    const packaged = join(process.resourcesPath, 'resources')
    if (existsSync(packaged)) return packaged
  }
  return join(app.getAppPath(), 'resources')
}

async function start(): Promise<void> {
  // No remote content and no permissions (camera, notifications, …) for the page.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
  Menu.setApplicationMenu(null)

  const storePath = process.env.DEBERTA_LAB_STORE || join(app.getPath('userData'), 'lab.sqlite')
  // The lab's log (logs/lab.log beside the store) also takes what goes wrong in main and in the page's process.
  const logger = loggerForStore(storePath)
  process.on('uncaughtException', (error) => {
    logger.failure('main process', error)
    dialog.showErrorBox(APP_NAME, `An unexpected error in the main process: ${error.message}${logger.file ? `\n\nDetails: ${logger.file}` : ''}`)
  })
  app.on('render-process-gone', (_event, _contents, details) => logger.error('the window\'s page process ended', { reason: details.reason, exitCode: details.exitCode }))
  app.on('child-process-gone', (_event, details) => logger.error(`a ${details.type} process ended`, { reason: details.reason, exitCode: details.exitCode }))
  lab = await createLabService({
    storePath,
    resourcesDir: resourcesDir(),
    host: 'electron',
    logger,
    nativeBinding: electronNativeBinding(app.getAppPath(), process.versions.electron),
  })
  const isTrusted = (url: string): boolean => isTrustedUrl(url, origins)
  bindLabApi(ipcMain, lab, isTrusted)
  bindHost(ipcMain, { showSaveDialog: (o) => dialog.showSaveDialog(o), showOpenDialog: (o) => dialog.showOpenDialog(o) }, (title) => mainWindow?.setTitle(title), isTrusted)
  lab.onEvent((event) => mainWindow?.webContents.send(IPC_EVENT_CHANNEL, event))

  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
}

function createWindow(): void {
  const stateFile = join(app.getPath('userData'), 'window-state.json')
  const bounds = loadWindowBounds(stateFile)
  const window = new BrowserWindow({
    ...bounds,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: APP_NAME,
    backgroundColor: '#111318',
    // The Electron security checklist, written out here so reviewers and electronegativity see it.
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    },
  })
  mainWindow = window
  if (bounds.maximized) window.maximize()
  window.once('ready-to-show', () => window.show())
  window.on('close', () => saveWindowBounds(stateFile, { ...window.getNormalBounds(), maximized: window.isMaximized() }))
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined
  })
  if (origins.devServerUrl) void window.loadURL(origins.devServerUrl)
  else void window.loadFile(indexHtml)
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
app.on('will-quit', (event) => {
  if (!lab) return
  event.preventDefault()
  const closing = lab
  lab = undefined
  void closing.close().finally(() => app.quit())
})
