// Remembers the window's size and position between launches (userData/window-state.json).
import { readFileSync, writeFileSync } from 'node:fs'

export interface WindowBounds {
  x?: number
  y?: number
  width: number
  height: number
  maximized: boolean
}

export const DEFAULT_BOUNDS: WindowBounds = { width: 1360, height: 880, maximized: false }

export function loadWindowBounds(file: string): WindowBounds {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<WindowBounds>
    const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
    if (!num(raw.width) || !num(raw.height) || raw.width < 400 || raw.height < 300) return DEFAULT_BOUNDS
    return {
      x: num(raw.x) ? raw.x : undefined,
      y: num(raw.y) ? raw.y : undefined,
      width: Math.min(raw.width, 10_000),
      height: Math.min(raw.height, 10_000),
      maximized: raw.maximized === true,
    }
  } catch {
    return DEFAULT_BOUNDS
  }
}

export function saveWindowBounds(file: string, bounds: WindowBounds): void {
  try {
    writeFileSync(file, JSON.stringify(bounds))
  } catch {
    // not worth failing a quit over
  }
}
