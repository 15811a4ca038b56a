// Reference timings to compare the lab's benchmarks with (HF PyTorch on the same machine, typically), read from
// text: the JSON lines of the PyTorch reference script (`{"impl": "pytorch-hf", "preset": "base", "seq": 128,
// "part": "model", "median_ms": 330, …}`) or `T:ms` pairs a user types (`128:330, 512:1050`). Used by
// `deberta-lab bench --reference` (ratio columns) and by the Benchmarks workspace (a dashed reference line).

export interface ReferenceTiming {
  /** sequence length */
  seq: number
  /** median time, ms */
  ms: number
  /** the part timed ("model", "attention", …) when the line says; a T:ms pair stands for any part */
  part?: string
  /** the preset timed, when the line says */
  preset?: string
  /** what was timed (the reference script says "pytorch-hf") */
  impl?: string
}

export interface ParsedReferenceTimings {
  /** by part, then length; a later line for the same part and length replaces an earlier one */
  points: ReferenceTiming[]
  /** the parts of the text that were not read, each with its start */
  problems: string[]
}

const NAME = /^[A-Za-z0-9._+-]{1,64}$/

/** Timings from text; unreadable parts are reported in `problems`, never guessed. */
export function parseReferenceTimings(text: string): ParsedReferenceTimings {
  const byKey = new Map<string, ReferenceTiming>()
  const problems: string[] = []
  // one JSON object per line; other lines hold T:ms pairs separated by commas or semicolons
  const items = text.split('\n').flatMap((line) => (line.trim().startsWith('{') ? [line] : line.split(/[,;]+/)))
  for (const raw of items) {
    const item = raw.trim()
    if (!item) continue
    let point: ReferenceTiming
    if (item.startsWith('{')) {
      let line: Record<string, unknown>
      try {
        const parsed: unknown = JSON.parse(item)
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
        line = parsed as Record<string, unknown>
      } catch {
        problems.push(`not JSON: ${item.slice(0, 40)}`)
        continue
      }
      point = { seq: Number(line.seq), ms: Number(line.median_ms) }
      const names: Array<'part' | 'preset' | 'impl'> = ['part', 'preset', 'impl']
      let badName = false
      for (const name of names) {
        const value = line[name]
        if (value === undefined) continue
        if (typeof value !== 'string' || !NAME.test(value)) badName = true
        else point[name] = value
      }
      if (badName) {
        problems.push(`a part, preset or impl that is not a plain name: ${item.slice(0, 40)}`)
        continue
      }
    } else {
      const match = /^(\d+)\s*[:=]\s*(\d+(?:\.\d+)?)\s*(?:ms)?$/.exec(item)
      if (!match) {
        problems.push(`not "T:ms": ${item.slice(0, 40)}`)
        continue
      }
      point = { seq: Number(match[1]), ms: Number(match[2]) }
    }
    if (!Number.isInteger(point.seq) || point.seq < 1 || !Number.isFinite(point.ms) || point.ms <= 0) {
      problems.push(`not a length and a time: ${item.slice(0, 40)}`)
      continue
    }
    const key = `${point.part ?? ''}\u0000${point.seq}`
    byKey.set(key, point)
  }
  const points = [...byKey.values()].sort((a, b) => (a.part ?? '').localeCompare(b.part ?? '') || a.seq - b.seq)
  return { points, problems }
}

/**
 * The reference of each length for one part: the line timed for that part, else a T:ms pair (no part).
 * Sorted by length.
 */
export function referencePointsFor(points: readonly ReferenceTiming[], part: string): ReferenceTiming[] {
  const bySeq = new Map<number, ReferenceTiming>()
  for (const p of points) if (p.part === undefined) bySeq.set(p.seq, p)
  for (const p of points) if (p.part === part) bySeq.set(p.seq, p)
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
}
