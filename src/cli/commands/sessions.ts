// `deberta-lab sessions`: list, show, export, import, delete and restore the sessions of the experiment store,
// through the lab service (the same session code as the app). Names, notes, tags, errors and every other stored
// text are printed with their control characters escaped (an imported .dlab must not drive the terminal).
import { LabError } from '../../common/errors'
import { IMPORT_MODES, type ImportMode, type SessionSnapshot, type SessionSummary } from '../../common/sessions'
import type { LabService } from '../../lab/service'
import { parseCommandArgs, pathOption } from '../args'
import { noteStoreNotice, withLab } from '../lab'
import { safeLines, safeText, toJsonText } from '../text'
import type { CliCommand, CliIo } from '../types'

const USAGE = `Usage: deberta-lab sessions <command> [options]

Commands:
  list                       sessions, most recently changed first (--all: with deleted ones)
  show <id>                  a session: workspaces, runs, latest metrics, artifacts
  export <id> <file>         write the session as one portable .dlab file
  import <file>              read a .dlab file (--mode replace|keep-both when the session exists)
  delete <id>                move a session to the trash (undo: restore; --purge deletes it for good)
  restore <id>               bring a deleted session back

<id> is a session id or a unique prefix of one (at least 4 characters).

Options:
  --json                     machine-readable output (list: [{id, name, createdAt, updatedAt, runCount}];
                             show: the whole session)
  --store PATH               experiment store file (default: DEBERTA_LAB_STORE, else
                             $XDG_DATA_HOME/deberta-lab/lab.sqlite, else ~/.local/share/deberta-lab/lab.sqlite)
  --mode replace|keep-both   import: replace the existing session, or keep both (the copy gets new ids
                             and the name "… (imported)")
  --all                      list: include deleted sessions
  --purge                    delete: remove the session, its runs and artifacts permanently`

const SUBCOMMANDS = ['list', 'show', 'export', 'import', 'delete', 'restore']

const badRequest = (message: string): LabError => new LabError('BAD_REQUEST', `${message}\n\n${USAGE}`)

const OPTIONS = {
  json: { type: 'boolean', default: false },
  store: { type: 'string' },
  mode: { type: 'string' },
  all: { type: 'boolean', default: false },
  purge: { type: 'boolean', default: false },
} as const

const parse = (argv: string[]) => parseCommandArgs(argv, OPTIONS, USAGE)

/** A table of stored text: every cell is escaped (one line, no control characters) before it is measured. */
function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(safeText))
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

const when = (iso: string | null): string => (iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))
const shortId = (id: string): string => id.slice(0, 8)

function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`
  return `${(size / 1024 / 1024).toFixed(1)} MiB`
}

function formatList(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'no sessions'
  const anyDeleted = sessions.some((s) => s.deletedAt !== null)
  return table(
    ['ID', 'NAME', 'RUNS', 'UPDATED', 'CREATED', ...(anyDeleted ? ['DELETED'] : [])],
    sessions.map((s) => [shortId(s.id), s.name, String(s.runCount), when(s.updatedAt), when(s.createdAt), ...(anyDeleted ? [when(s.deletedAt)] : [])]),
  )
}

function formatSnapshot(snapshot: SessionSnapshot): string {
  const { session } = snapshot
  const out: string[] = [
    `Session  ${safeText(session.name)}`,
    `id       ${safeText(session.id)}`,
    `created  ${safeText(when(session.createdAt))} (DeBERTa Lab ${safeText(session.appVersion)})`,
    `updated  ${safeText(when(session.updatedAt))}`,
  ]
  if (session.tags.length) out.push(`tags     ${session.tags.map(safeText).join(', ')}`)
  if (session.notes) out.push('', safeLines(session.notes))
  const workspaces = Object.entries(snapshot.workspaces)
  out.push('', `Workspaces (${workspaces.length})`)
  if (workspaces.length) {
    out.push(
      table(
        ['WORKSPACE', 'VERSION', 'MODEL', 'RESULT RUN'],
        workspaces.map(([id, state]) => [id, String(state.version), state.model ? state.model.kind : '', state.lastResult ? shortId(state.lastResult.runId) : '']),
      ),
    )
  }
  out.push('', `Runs (${snapshot.runs.length})`)
  if (snapshot.runs.length) {
    const latest = new Map<string, Map<string, { step: number; value: number }>>()
    for (const m of snapshot.metrics) {
      const byKey = latest.get(m.runId) ?? new Map<string, { step: number; value: number }>()
      const seen = byKey.get(m.key)
      if (!seen || m.step >= seen.step) byKey.set(m.key, { step: m.step, value: m.value })
      latest.set(m.runId, byKey)
    }
    out.push(
      table(
        ['ID', 'KIND', 'NAME', 'STATUS', 'STARTED', 'ENDED', 'BACKEND', 'METRICS (latest)'],
        snapshot.runs.map((r) => [
          shortId(r.id),
          r.workspace ? `${r.kind}/${r.workspace}` : r.kind,
          r.name,
          r.error ? `${r.status}: ${r.error.split('\n')[0].slice(0, 60)}` : r.status,
          when(r.startedAt),
          when(r.endedAt),
          r.backend ?? '',
          [...(latest.get(r.id) ?? new Map()).entries()].map(([k, v]) => `${k}=${Number(v.value.toPrecision(6))}`).join(' '),
        ]),
      ),
    )
  }
  out.push('', `Artifacts (${snapshot.artifacts.length})`)
  if (snapshot.artifacts.length) {
    out.push(
      table(
        ['SHA256', 'KIND', 'NAME', 'RUN', 'TYPE', 'SIZE'],
        snapshot.artifacts.map((a) => [
          a.sha256.slice(0, 12),
          a.kind,
          a.name,
          a.runId ? shortId(a.runId) : '',
          a.dtype && a.shape ? `${a.dtype}[${a.shape.join('×')}]` : a.mime,
          formatBytes(a.size),
        ]),
      ),
    )
  }
  return out.join('\n')
}

function positional(positionals: string[], count: number, what: string): string[] {
  const args = positionals.slice(1)
  if (args.length !== count) throw badRequest(`sessions ${positionals[0]} expects ${what}`)
  return args
}

async function run(lab: LabService, positionals: string[], values: ReturnType<typeof parse>['values'], io: CliIo): Promise<number> {
  const print = (text: string): void => io.stdout(text + '\n')
  const name = (s: SessionSummary): string => `"${safeText(s.name)}"`
  switch (positionals[0]) {
    case 'list': {
      positional(positionals, 0, 'no arguments')
      const sessions = await lab.listAllSessions({ includeDeleted: values.all })
      if (values.json) {
        // with --all, deleted sessions carry their deletion time (null for live ones)
        print(toJsonText(sessions.map(({ id, name, createdAt, updatedAt, runCount, deletedAt }) => ({ id, name, createdAt, updatedAt, runCount, ...(values.all ? { deletedAt } : {}) }))))
      } else print(formatList(sessions))
      return 0
    }
    case 'show': {
      const [given] = positional(positionals, 1, 'a session <id>')
      const snapshot = await lab.openSession(await lab.findSessionId(given))
      print(values.json ? toJsonText(snapshot) : formatSnapshot(snapshot))
      return 0
    }
    case 'export': {
      const [given, file] = positional(positionals, 2, '<id> <file>')
      const written = await lab.exportSessionToFile(await lab.findSessionId(given), file)
      if (values.json) print(toJsonText(written))
      else print(`exported session ${safeText(written.sessionId)} to ${safeText(written.file)} (${formatBytes(written.size)})`)
      return 0
    }
    case 'import': {
      const [file] = positional(positionals, 1, 'a <file>')
      if (values.mode !== undefined && !(IMPORT_MODES as readonly string[]).includes(values.mode)) {
        throw badRequest(`--mode must be replace or keep-both, not "${values.mode}"`)
      }
      let outcome
      try {
        outcome = await lab.importSessionFromFile(file, values.mode as ImportMode | undefined)
      } catch (error) {
        if (error instanceof LabError && error.code === 'IMPORT_CONFLICT') {
          throw new LabError('IMPORT_CONFLICT', error.message.replace('with mode replace or keep-both', 'with --mode replace or --mode keep-both'), error.details)
        }
        throw error
      }
      const s = outcome.session
      if (values.json) print(toJsonText({ mode: outcome.mode, session: s }))
      else print(`imported session ${safeText(s.id)} ${name(s)} (${s.runCount} runs)${outcome.mode === 'new' ? '' : ` — ${outcome.mode}`}`)
      return 0
    }
    case 'delete': {
      const [given] = positional(positionals, 1, 'a session <id>')
      const id = await lab.findSessionId(given)
      if (values.purge) {
        await lab.purgeSession(id)
        print(values.json ? toJsonText({ sessionId: id, purged: true }) : `purged session ${safeText(id)}`)
      } else {
        await lab.deleteSession(id)
        const s = await lab.getSessionSummary(id)
        print(values.json ? toJsonText(s) : `deleted session ${safeText(id)} ${name(s)} (undo: deberta-lab sessions restore ${safeText(id)})`)
      }
      return 0
    }
    case 'restore': {
      const [given] = positional(positionals, 1, 'a session <id>')
      const s = await lab.restoreSession(await lab.findSessionId(given))
      print(values.json ? toJsonText(s) : `restored session ${safeText(s.id)} ${name(s)}`)
      return 0
    }
    case undefined:
      throw badRequest('missing command')
    default:
      throw badRequest(`unknown sessions command "${safeText(positionals[0])}"`)
  }
}

export const sessionsCommand: CliCommand = {
  name: 'sessions',
  summary: 'list, show, export, import and delete sessions of the experiment store',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv)
    if (positionals[0] === undefined) throw badRequest('missing command')
    if (!SUBCOMMANDS.includes(positionals[0])) throw badRequest(`unknown sessions command "${safeText(positionals[0])}"`)
    const store = pathOption(values.store, '--store')
    return withLab(store, async (lab) => {
      await noteStoreNotice(lab, io)
      return run(lab, positionals, values, io)
    })
  },
}
