// Text the CLI prints that comes from stored or user data (session names, notes, tags, run names, errors, the
// backend): control characters are shown as escapes, never sent to the terminal. An imported .dlab could otherwise
// set the window title, write the clipboard (OSC 52) or rewrite earlier lines (CR, ESC [ … ) when listed.
// JSON output stays JSON: the same characters are written as \u escapes, which parse back to the same value.

// C0 controls, DEL, C1 controls (U+0080–U+009F: 8-bit CSI/OSC), line/paragraph separators and the bidirectional
// overrides and isolates (text that reads differently from what it is).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_KEEP_LINES = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e', '\u0007': '\\a', '\b': '\\b' }

const visible = (c: string): string => NAMED[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`

/** One line of text with every control character shown as an escape (names, cells of a table). */
export function safeText(text: string): string {
  return text.replace(UNSAFE, visible)
}

/** Like safeText, but line breaks stay (error messages with usage text). */
export function safeLines(text: string): string {
  return text.replace(UNSAFE_KEEP_LINES, visible)
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * JSON with NaN/±Infinity spelled as strings (as in .dlab files) and with the characters JSON.stringify leaves raw
 * but a terminal may act on (DEL, C1, separators, bidi controls) written as \u escapes.
 */
export function toJsonText(value: unknown, indent: number | undefined = 2): string {
  return escapeJson(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? String(item) : item), indent))
}

/** JSON text with DEL, C1, separators and bidi controls written as \u escapes (the same JSON value). */
export function escapeJson(text: string): string {
  return text.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
