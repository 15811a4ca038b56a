// Roving focus over a list (WAI-ARIA practice): the list is one stop in the Tab order. One item (the one
// focused last, else the preferred one, else the first) is tabbable; ↑/↓, Home and End move the focus between
// items. Items mark their focus target with data-roving-id.
import { computed, nextTick, ref, watch, type Ref } from 'vue'

/** The item index a key moves to from `index` in a list of `count`, or null for other keys. */
export function rovingTarget(key: string, index: number, count: number): number | null {
  if (count === 0) return null
  const last = count - 1
  const moves: Record<string, number> = { ArrowDown: Math.min(last, index + 1), ArrowUp: Math.max(0, index - 1), Home: 0, End: last }
  return key in moves ? moves[key] : null
}

export function useRovingFocus(ids: Ref<string[]>, preferred: () => string | null | undefined, root: Ref<HTMLElement | null>) {
  const focusId = ref<string | null>(null)
  /** The item in the Tab order. */
  const rovingId = computed(() => {
    if (focusId.value && ids.value.includes(focusId.value)) return focusId.value
    const wanted = preferred()
    return wanted && ids.value.includes(wanted) ? wanted : (ids.value[0] ?? null)
  })
  // the preferred item (e.g. the open session) takes the Tab stop when it changes
  watch(preferred, (id) => (focusId.value = id ?? null))

  async function onKeydown(event: KeyboardEvent): Promise<void> {
    if ((event.target as HTMLElement).tagName === 'INPUT') return
    const next = rovingTarget(event.key, ids.value.indexOf(rovingId.value ?? ''), ids.value.length)
    if (next === null) return
    event.preventDefault()
    focusId.value = ids.value[next]
    await nextTick()
    root.value?.querySelector<HTMLElement>(`[data-roving-id="${CSS.escape(focusId.value)}"]`)?.focus()
  }

  return { rovingId, focusId, onKeydown }
}
