// A tiny typed event hub for LabEvents (progress, job ends, session changes).
import type { LabEvent } from '../common/api'

export class EventHub {
  private readonly listeners = new Set<(event: LabEvent) => void>()

  on(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: LabEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // a failing listener (closed window, dropped connection) must not stop the others
      }
    }
  }
}
