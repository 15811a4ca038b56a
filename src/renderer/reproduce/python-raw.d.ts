// Vite (and vitest) import a file's text with the `?raw` suffix.
declare module '*.py?raw' {
  const text: string
  export default text
}
