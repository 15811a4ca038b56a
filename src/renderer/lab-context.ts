// How the renderer receives the lab: the entry (main.ts) picks the LabApi and LabHost for this page (Electron
// bridge or HTTP) and provides them to the app under LAB_KEY; components and composables take them with useLab()
// during setup, as Netron hands its view a host. Tests provide another lab (an in-memory one) the same way, or
// pass it to a composable directly.
import { effectScope, inject, type InjectionKey } from 'vue'
import type { LabApi, LabHost } from '../common/api'

export interface Lab {
  api: LabApi
  host: LabHost
}

export const LAB_KEY: InjectionKey<Lab> = Symbol('DeBERTa Lab')

/** The lab provided to the app. Call it in setup (or in app.runWithContext), like any inject. */
export function useLab(): Lab {
  const lab = inject(LAB_KEY, null)
  if (!lab) throw new Error('no lab provided: the app must be given one with app.provide(LAB_KEY, lab)')
  return lab
}

/**
 * One store per lab (the window's sessions, model and event subscription are per lab, not per component): made on
 * first use in a scope of its own, so it outlives the component that first asked for it.
 */
export function perLab<T>(create: (lab: Lab) => T): (lab: Lab) => T {
  const stores = new WeakMap<Lab, T>()
  return (lab) => {
    if (!stores.has(lab)) stores.set(lab, effectScope(true).run(() => create(lab)) as T)
    return stores.get(lab) as T
  }
}
