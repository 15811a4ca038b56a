// The experiment store's public API. Everything else in src/store is internal.
//
//   const { store, notice } = openStoreSafely(resolveStorePath({ env: process.env, platform: process.platform, home: homedir() }))
//   const session = store.createSession({ name: 'Attention terms' })
//   const autosave = createAutosaver(store, { delayMs: 500 })
//   autosave.save(session.id, 'attention', state)            // written within a second
//   const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config })
//   store.logMetrics(run.id, [{ key: 'loss', step: 1, value: 0.5 }])
//   store.finishRun(run.id, { status: 'done', result })
//   const bytes = store.exportSession(session.id)              // .dlab
//   store.importSession(bytes, { mode: 'keep-both' })
//   store.close()                                              // flushes the autosaver
export { openStore, ExperimentStore, LARGE_RESULT_BYTES } from './store'
export type { OpenStoreOptions, NewRun, RunOutcome, MetricInput, NewArtifact, ImportLimits, WorkspaceStateWrite } from './store'
export { openStoreSafely, type SafeOpenOptions, type SafeOpenResult } from './safe-open'
export { createAutosaver, type Autosaver, type AutosaverOptions, type AutosaveStatus } from './autosave'
export { resolveStorePath, type StoreLocationInput } from './location'
export { DEFAULT_IMPORT_LIMITS } from './dlab/import'
export { SCHEMA_VERSION } from './migrations'
