// Regular expressions from tokenizer files (Split and Replace patterns) run with a time bound. They are
// JavaScript regexes, so patterns with lookahead (GPT-2's \s+(?!\S)) and \p{…} classes keep their exact
// meaning, but a backtracking engine can take exponential time on patterns such as (a+)+$. Matching runs
// inside a vm script with a timeout (V8 interrupts the regex itself); past the bound the tokenizer is refused
// with TOKENIZER_FORMAT naming the pattern instead of freezing the thread for minutes.
import * as vm from 'node:vm'
import { LabError } from '../../common/errors'

/** Default bound on one matching call (all parts of one text), in milliseconds. */
export const DEFAULT_REGEX_TIMEOUT_MS = 1000
let timeoutMs = DEFAULT_REGEX_TIMEOUT_MS

/** Changes the bound (process-wide); returns the previous one. */
export function configureRegexTimeout(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1) throw new LabError('INPUT_INVALID', `the regex time limit must be a positive integer of milliseconds, not ${ms}`)
  const previous = timeoutMs
  timeoutMs = ms
  return previous
}

interface MatchSandbox {
  re: RegExp | null
  texts: readonly string[]
  out: number[][] | null
}

const sandbox: MatchSandbox = { re: null, texts: [], out: null }
const context = vm.createContext({ sandbox })
// Non-empty matches of sandbox.re in every text, as flat [start, end, start, end, …] lists (matchAll semantics).
const MATCH_ALL = new vm.Script(`{
  const re = sandbox.re
  sandbox.out = sandbox.texts.map((text) => {
    const spans = []
    for (const m of text.matchAll(re)) if (m[0].length > 0) spans.push(m.index, m.index + m[0].length)
    return spans
  })
}`)

export class BoundedRegex {
  readonly source: string
  private readonly re: RegExp

  /** Compiles `source` with flags 'gu'; TOKENIZER_FORMAT naming `where` when JavaScript cannot compile it. */
  constructor(source: string, private readonly where: string) {
    this.source = source
    try {
      this.re = new RegExp(source, 'gu')
    } catch (error) {
      throw new LabError('TOKENIZER_FORMAT', `tokenizer.json: ${where}: regex ${JSON.stringify(source)} is not supported (${(error as Error).message})`)
    }
  }

  /** The non-empty matches [start, end) in each text, computed within the time bound. */
  matchesMany(texts: readonly string[]): Array<Array<[number, number]>> {
    if (texts.length === 0) return []
    sandbox.re = this.re
    sandbox.texts = texts
    sandbox.out = null
    try {
      MATCH_ALL.runInContext(context, { timeout: timeoutMs })
    } catch (error) {
      const code = (error as { code?: unknown }).code
      const chars = texts.reduce((n, t) => n + t.length, 0)
      if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        throw new LabError(
          'TOKENIZER_FORMAT',
          `tokenizer.json: ${this.where}: regex ${JSON.stringify(this.source)} took more than ${timeoutMs} ms on ${chars} characters of text ` +
            '(catastrophic backtracking); this tokenizer cannot be used',
          { pattern: this.source, timeoutMs },
        )
      }
      throw new LabError('TOKENIZER_FORMAT', `tokenizer.json: ${this.where}: regex ${JSON.stringify(this.source)} failed on ${chars} characters of text (${String((error as { message?: unknown }).message)})`, {
        pattern: this.source,
      })
    } finally {
      sandbox.re = null
      sandbox.texts = []
    }
    const out = sandbox.out as unknown as number[][]
    sandbox.out = null
    return out.map((flat) => {
      const spans: Array<[number, number]> = []
      for (let i = 0; i < flat.length; i += 2) spans.push([flat[i], flat[i + 1]])
      return spans
    })
  }

  matches(text: string): Array<[number, number]> {
    return this.matchesMany([text])[0]
  }
}
