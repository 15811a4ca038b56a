// What a result on screen was computed from, and which controls no longer match it (pure, unit-tested).
// A workspace lists its input fields once; the same formatting is applied to the result's recorded request
// and to the current controls, and a field is "changed" when the two read differently.

export interface InputFieldSpec {
  key: string
  /** how the field is named to the user ("text", "head") */
  label: string
  /** the value in a canonical form: two values are the same input when these are equal */
  format(value: unknown): string
  /** the value as shown to the user (default: format) */
  display?(value: unknown): string
}

export interface ShownInput {
  key: string
  label: string
  /** the value the result was computed with */
  shown: string
  /** the control now holds another value */
  changed: boolean
  /** the control's value, when changed */
  now?: string
}

/** Pairs the result's inputs with the controls'; fields the result did not record are left out. */
export function compareInputs(fields: readonly InputFieldSpec[], result: Record<string, unknown> | null, current: Record<string, unknown>): ShownInput[] {
  if (!result) return []
  return fields
    .filter((field) => field.key in result)
    .map((field) => {
      const show = field.display ?? field.format
      const base = { key: field.key, label: field.label, shown: show(result[field.key]) }
      return field.format(result[field.key]) === field.format(current[field.key]) ? { ...base, changed: false } : { ...base, changed: true, now: show(current[field.key]) }
    })
}

/** The keys of the changed fields, for marking their controls. */
export function changedKeys(inputs: readonly ShownInput[]): Set<string> {
  return new Set(inputs.filter((input) => input.changed).map((input) => input.key))
}

/** A text as a short quotation: the first `max` characters and its length when longer. */
export function quoteText(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : ''
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= max ? `“${flat}”` : `“${flat.slice(0, max - 1)}…” (${text.length} characters)`
}

export const textField = (key = 'text', label = 'text'): InputFieldSpec => ({ key, label, format: (value) => (typeof value === 'string' ? value : ''), display: (value) => quoteText(value) })
export const numberField = (key: string, label: string): InputFieldSpec => ({ key, label, format: (value) => (value === undefined || value === null ? '—' : String(value)) })

// ---------------------------------------------------------------------------------------------
// Attention: text, layer, head and the terms in the score (model terms minus the ablated ones, plus p2p)

export const ATTENTION_INPUT_FIELDS: readonly InputFieldSpec[] = [
  textField(),
  numberField('layer', 'layer'),
  { key: 'head', label: 'head', format: (value) => (value === 'mean' ? 'mean over heads' : String(value)) },
  { key: 'terms', label: 'terms', format: (value) => String(value) },
]

/** An attention request (recorded or about to be sent) as the fields above read it. */
export function attentionInputs(request: Record<string, unknown>, modelTerms: readonly string[]): Record<string, unknown> {
  const disabled = Array.isArray(request.disabledTerms) ? (request.disabledTerms as unknown[]) : []
  const relative = modelTerms.some((t) => t !== 'c2c')
  const terms = [...modelTerms.filter((t) => t !== 'p2p'), ...(request.p2p === true && relative ? ['p2p'] : [])].filter((t) => !disabled.includes(t))
  const head = request.head === 'mean' ? 'mean' : Number(request.head)
  const removed = disabled.length === 0 ? '' : request.ablationScope === 'layer' ? ` (removed in layer ${String(request.layer)} only)` : request.ablationScope === 'head' ? ` (removed in head ${String(head)} of layer ${String(request.layer)} only)` : ''
  return { text: request.text, layer: request.layer, head, terms: (terms.length > 0 ? terms.join(' + ') : 'none') + removed }
}

export const PROBLEM_INPUT_FIELDS: readonly InputFieldSpec[] = [textField('text', 'sentence')]
export const DECODING_INPUT_FIELDS: readonly InputFieldSpec[] = [textField(), numberField('topK', 'top-k')]
export const RELATIVE_INPUT_FIELDS: readonly InputFieldSpec[] = [
  textField('text', 'sentence A'),
  { ...textField('compareText', 'sentence B'), display: (value) => (typeof value === 'string' && value.trim() ? quoteText(value) : 'none') },
  { key: 'clipK', label: 'clipping k', format: (value) => (typeof value === 'number' ? String(value) : 'off') },
]
