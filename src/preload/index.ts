// The bridge: one function per LabApi method, host functions, and the event subscription. Nothing else.
// Each call resolves with a Result ({ ok, value } | { ok: false, error }); the renderer unwraps it,
// because only an Error's message would survive contextBridge.
import { contextBridge, ipcRenderer } from 'electron'
import { HOST_CHANNELS, IPC_EVENT_CHANNEL, LAB_API_METHODS, ipcChannel, type LabEvent } from '../common/api'

const api: Record<string, unknown> = {}
for (const method of LAB_API_METHODS) {
  api[method] = (...args: unknown[]) => ipcRenderer.invoke(ipcChannel(method), ...args)
}
api.onEvent = (listener: (event: LabEvent) => void) => {
  const wrapped = (_event: unknown, payload: LabEvent): void => listener(payload)
  ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped)
  return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped)
}
api.host = {
  saveFile: (request: unknown) => ipcRenderer.invoke(HOST_CHANNELS.saveFile, request),
  openFile: (request: unknown) => ipcRenderer.invoke(HOST_CHANNELS.openFile, request),
  pickModelFolder: () => ipcRenderer.invoke(HOST_CHANNELS.pickModelFolder),
  setTitle: (title: string) => ipcRenderer.invoke(HOST_CHANNELS.setTitle, title),
}

contextBridge.exposeInMainWorld('deberta', api)
