// Which lab this page talks to (called once, by main.ts, which provides it to the app; see lab-context.ts).
// Electron: the preload's `window.deberta` bridge (bridge-client.ts). Browser mode: an HTTP client for
// `deberta-lab serve` (http-client.ts), token from ?token= in the URL. (Named get-lab.ts, not lab.ts: the
// layering lint reads any import ending in `/lab` as an import of src/lab.)
import { labFromBridge, type DebertaBridge } from './bridge-client'
import { createBrowserHost } from './browser-host'
import { createHttpApi } from './http-client'
import type { Lab } from './lab-context'

declare global {
  interface Window {
    deberta?: DebertaBridge
  }
}

/** Reads the token from ?token=, keeps it for reloads of this tab and removes it from the address bar. */
export function takeToken(location: Location, history: History, storage: Storage | undefined): string | null {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  const key = 'deberta-lab.token'
  if (fromUrl) {
    try {
      storage?.setItem(key, fromUrl)
    } catch {
      // storage disabled: the HttpOnly cookie the server set still authorises this page
    }
    url.searchParams.delete('token')
    history.replaceState(history.state, '', url.pathname + url.search + url.hash)
    return fromUrl
  }
  try {
    return storage?.getItem(key) ?? null
  } catch {
    return null
  }
}

/** The lab of this page: the preload's bridge in Electron, else the HTTP API of `deberta-lab serve`. */
export function pickLab(): Lab {
  if (window.deberta) return labFromBridge(window.deberta)
  const token = takeToken(window.location, window.history, window.sessionStorage)
  return { api: createHttpApi({ baseUrl: window.location.origin, token }), host: createBrowserHost(document) }
}
