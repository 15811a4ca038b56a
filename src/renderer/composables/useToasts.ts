// Transient messages at the bottom of the window, optionally with one action (e.g. Undo after a delete).
import { reactive } from 'vue'

export interface Toast {
  id: number
  message: string
  kind: 'info' | 'error'
  action?: { label: string; run: () => void | Promise<void> }
}

const toasts = reactive<Toast[]>([])
let nextId = 1

export function useToasts() {
  function dismiss(id: number): void {
    const index = toasts.findIndex((t) => t.id === id)
    if (index >= 0) toasts.splice(index, 1)
  }
  function show(message: string, options: { kind?: Toast['kind']; action?: Toast['action']; timeoutMs?: number } = {}): number {
    const id = nextId++
    toasts.push({ id, message, kind: options.kind ?? 'info', action: options.action })
    const timeout = options.timeoutMs ?? (options.action ? 10_000 : 5_000)
    if (timeout > 0) setTimeout(() => dismiss(id), timeout)
    return id
  }
  async function runAction(toast: Toast): Promise<void> {
    dismiss(toast.id)
    await toast.action?.run()
  }
  return { toasts, show, dismiss, runAction }
}
