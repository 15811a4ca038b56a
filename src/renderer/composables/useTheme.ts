// Light and dark themes: remembered in localStorage, defaulting to the system's prefers-color-scheme.
import { readonly, ref } from 'vue'

export type Theme = 'light' | 'dark'
const STORAGE_KEY = 'deberta-lab.theme'

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY)
    return value === 'light' || value === 'dark' ? value : null
  } catch {
    return null
  }
}

function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

const theme = ref<Theme>(stored() ?? systemTheme())

function apply(value: Theme): void {
  document.documentElement.dataset.theme = value
  document.documentElement.style.colorScheme = value
}

let started = false
function start(): void {
  if (started) return
  started = true
  apply(theme.value)
  // Follow the system while the user has not chosen.
  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (event) => {
      if (stored()) return
      theme.value = event.matches ? 'dark' : 'light'
      apply(theme.value)
    })
  }
}

function setTheme(value: Theme): void {
  theme.value = value
  apply(value)
  try {
    localStorage.setItem(STORAGE_KEY, value)
  } catch {
    // storage disabled: the choice lasts for this window only
  }
}

export function useTheme() {
  start()
  return {
    theme: readonly(theme),
    setTheme,
    toggle: () => setTheme(theme.value === 'dark' ? 'light' : 'dark'),
  }
}
