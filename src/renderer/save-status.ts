// What the status bar says about saving: the lab's word first (a save it answered may still wait for the
// store: locked by another process, or read-only), then this window's own saves.
import type { StoreSaveStatus } from '../common/api'
import type { ErrorData } from '../common/errors'

export type LocalSaveState = 'saved' | 'pending' | 'saving' | 'error' | 'none'

const SAVE_TEXT: Record<LocalSaveState, string> = {
  saved: 'All changes saved',
  pending: 'Unsaved changes',
  saving: 'Saving…',
  error: 'Save failed',
  none: 'No session',
}

export function saveIndicator(input: { store: StoreSaveStatus | null | undefined; local: LocalSaveState; localError: ErrorData | null }): {
  state: LocalSaveState
  text: string
} {
  if (input.store && !input.store.saved) return { state: 'error', text: `not saved — ${input.store.reason ?? 'the store cannot be written'}` }
  if (input.local === 'error') return { state: 'error', text: `Save failed: ${input.localError?.message ?? ''}` }
  return { state: input.local, text: SAVE_TEXT[input.local] }
}
