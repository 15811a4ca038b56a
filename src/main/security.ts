// Electron security checklist, in one place: which URLs are ours, and the guards every web contents gets.
import { pathToFileURL } from 'node:url'

export interface TrustedOrigins {
  /** file:// URL of out/renderer/index.html in production */
  rendererFileUrl: string
  /** electron-vite dev server URL during `npm run dev` */
  devServerUrl?: string
}

/** True only for the app's own page: the built index.html or, in development, the dev server's origin. */
export function isTrustedUrl(url: string, origins: TrustedOrigins): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'file:') {
    const own = new URL(origins.rendererFileUrl)
    return parsed.pathname === own.pathname
  }
  if (origins.devServerUrl) {
    const dev = new URL(origins.devServerUrl)
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === dev.origin && ['localhost', '127.0.0.1'].includes(dev.hostname)
  }
  return false
}

export function rendererFileUrl(indexHtmlPath: string): string {
  return pathToFileURL(indexHtmlPath).href
}

/** The part of WebContents the guards touch (a fake in tests). */
export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

/** Denies navigation away from the app, new windows and webviews. */
export function hardenWebContents(contents: WebContentsLike, origins: TrustedOrigins): void {
  const block = (event: { preventDefault(): void }, url: string): void => {
    if (!isTrustedUrl(url, origins)) event.preventDefault()
  }
  contents.on('will-navigate', block)
  contents.on('will-redirect', block)
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
}
