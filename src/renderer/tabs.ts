// The five workspaces, in tab order (Ctrl/Cmd+1 … 5).
import type { WorkspaceId } from '../common/sessions'

export interface TabSpec {
  id: WorkspaceId
  label: string
}

export const TABS: readonly TabSpec[] = [
  { id: 'problem', label: 'Problem demo' },
  { id: 'attention', label: 'Attention decomposition' },
  { id: 'relative', label: 'Relative positions' },
  { id: 'decoding', label: 'Decoding' },
  { id: 'benchmarks', label: 'Benchmarks' },
]

/** The tab a key press selects: Ctrl/Cmd+digit anywhere, arrows/Home/End on the focused tab list. */
export function tabForShortcut(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>): number | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return null
  const digit = Number(event.key)
  return Number.isInteger(digit) && digit >= 1 && digit <= TABS.length ? digit - 1 : null
}

export function tabForArrow(key: string, current: number, count = TABS.length): number | null {
  if (key === 'ArrowRight') return (current + 1) % count
  if (key === 'ArrowLeft') return (current - 1 + count) % count
  if (key === 'Home') return 0
  if (key === 'End') return count - 1
  return null
}
