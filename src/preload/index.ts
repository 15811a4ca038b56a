// The bridge: one function per LabApi method (from the registry, src/common/api.ts), host functions, and the
// event subscription. Nothing else. Each call resolves with a Result ({ ok, value } | { ok: false, error }) from
// main's guarded handlers; the renderer unwraps it, because only an Error's message would survive contextBridge.
import { contextBridge, ipcRenderer } from 'electron'
import { HOST_CHANNELS, IPC_EVENT_CHANNEL, fromRegistry, ipcChannel, type LabBridge, type LabBridgeResults, type LabEvent } from '../common/api'

const bridge: LabBridge = {
  ...fromRegistry<LabBridgeResults>((method, args) => ipcRenderer.invoke(ipcChannel(method), ...args)),
  onEvent(listener: (event: LabEvent) => void) {
    const wrapped = (_event: unknown, payload: LabEvent): void => listener(payload)
    ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped)
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped)
  },
  host: {
    saveFile: (request) => ipcRenderer.invoke(HOST_CHANNELS.saveFile, request),
    openFile: (request) => ipcRenderer.invoke(HOST_CHANNELS.openFile, request),
    pickModelFolder: () => ipcRenderer.invoke(HOST_CHANNELS.pickModelFolder),
    setTitle: (title) => ipcRenderer.invoke(HOST_CHANNELS.setTitle, title),
  },
}

contextBridge.exposeInMainWorld('deberta', bridge)
