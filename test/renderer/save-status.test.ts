import { describe, expect, it } from 'vitest'
import { saveIndicator } from '../../src/renderer/save-status'

describe('status bar save indicator', () => {
  it('says "not saved — <reason>" while the lab cannot write, whatever this window thinks', () => {
    const store = { saved: false, reason: 'the experiment store is busy (another process holds a long write)', pending: 2 }
    for (const local of ['saved', 'pending', 'saving', 'error'] as const) {
      expect(saveIndicator({ store, local, localError: null })).toEqual({ state: 'error', text: `not saved — ${store.reason}` })
    }
  })

  it('goes back to this window’s own state once the lab saved again', () => {
    expect(saveIndicator({ store: { saved: true, pending: 0 }, local: 'saved', localError: null })).toEqual({ state: 'saved', text: 'All changes saved' })
    expect(saveIndicator({ store: undefined, local: 'saving', localError: null })).toEqual({ state: 'saving', text: 'Saving…' })
    expect(saveIndicator({ store: null, local: 'error', localError: { code: 'SESSION_NOT_FOUND', message: 'gone' } })).toEqual({ state: 'error', text: 'Save failed: gone' })
  })
})
