// Reading a .dlab file, in an order that never trusts the archive: entry paths (zip-slip), declared sizes
// (zip bombs) and the manifest's format version come before any large inflation; every entry is then
// checked against the manifest's SHA-256 and session.json against a strict schema. Nothing here touches the
// store — the caller writes the result in one transaction — and nothing is ever written to a path taken
// from the archive.
import { createHash } from 'node:crypto'
import { LabError } from '../../common/errors'
import { STORED_RESULT_ARTIFACT, isStoredResultRef, type StoredResultRef, type WorkspaceId, type WorkspaceState } from '../../common/sessions'
import { DLAB_FORMAT, DLAB_FORMAT_VERSION, manifestSchema, parseWith, sessionFileSchema, type DlabManifest, type SessionFile } from '../schemas'
import { fromJson, jsonShapeProblem, toJson } from '../json'
import { MAX_STATE_DEPTH } from '../repositories/workspaces'
import type { PortableSession } from '../snapshot'
import { MANIFEST_ENTRY, SESSION_ENTRY, artifactEntry } from './export'
import { extractEntry, readZipDirectory, type ZipEntry } from './zip'

export interface ImportLimits {
  /** size of the .dlab file itself */
  maxFileBytes: number
  /** uncompressed size of any one entry */
  maxEntryBytes: number
  /** uncompressed size of all entries together */
  maxTotalBytes: number
  /** number of entries */
  maxEntries: number
  /**
   * uncompressed size of session.json, which is parsed in memory at once (results over 1 MiB travel as
   * artifacts, so a session's JSON holds states, run records, small results and metrics)
   */
  maxSessionJsonBytes: number
  /**
   * JSON values (objects, arrays and the items in them) session.json may hold, counted by a byte scan before
   * parsing: bounds the heap JSON.parse builds (a 64 MiB file of "{}," would be 22 M objects, GBs of heap)
   */
  maxSessionJsonValues: number
  /** heap (MB) of the worker thread that reads the file when importing off the main thread */
  maxWorkerHeapMb: number
}

const MiB = 1024 * 1024
export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxFileBytes: 1024 * MiB,
  maxEntryBytes: 512 * MiB,
  maxTotalBytes: 1024 * MiB,
  maxEntries: 20_000,
  maxSessionJsonBytes: 64 * MiB,
  maxSessionJsonValues: 4_000_000,
  maxWorkerHeapMb: 2048,
}
/** manifest.json is read before its entries are checked: keep it small. */
const MAX_MANIFEST_BYTES = 8 * MiB
/** Values per manifest entry (an object of path, sha256, size) with room to spare, plus the top level. */
const MANIFEST_VALUES_PER_ENTRY = 8

export interface ImportOptions {
  /**
   * Run results whose JSON is longer are moved into the run's "result.json" artifact with a StoredResultRef
   * in the run, as ExperimentStore.finishRun does for new results (so listing runs never parses them).
   * Default: no move.
   */
  largeResultBytes?: number
}

export interface ParsedSessionFile {
  manifest: DlabManifest
  portable: PortableSession
  /** artifact bytes by sha256, each verified */
  blobs: Map<string, Uint8Array>
}

const invalid = (message: string, details?: Record<string, unknown>): LabError => new LabError('IMPORT_INVALID', `invalid session file: ${message}`, details)

/**
 * Refuses archive paths that could escape a folder if anyone ever extracted them: absolute, '..',
 * backslashes, drive letters, control characters, empty or '.' segments.
 */
export function checkEntryPath(path: string): void {
  const unsafe = (why: string): never => {
    throw new LabError('IMPORT_UNSAFE_PATH', `the session file holds an unsafe path ${JSON.stringify(path)}: ${why}`, { path })
  }
  if (path.length === 0) unsafe('empty')
  if (path.includes('\\')) unsafe('backslash')
  if (path.startsWith('/')) unsafe('absolute')
  if (/^[A-Za-z]:/.test(path)) unsafe('drive letter')
  if (path.includes('..')) unsafe("'..'")
  if (/[\u0000-\u001f\u007f]/.test(path)) unsafe('control character')
  const segments = path.endsWith('/') ? path.slice(0, -1).split('/') : path.split('/')
  if (segments.some((s) => s === '' || s === '.')) unsafe('empty or "." segment')
}

const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * How many JSON values (containers, and items separated by commas) `data` holds, stopping past `limit`.
 * A byte scan: '"' and '\\' never occur inside UTF-8 multi-byte sequences.
 */
export function countJsonValues(data: Uint8Array, limit: number): number {
  let count = 1
  let inString = false
  for (let i = 0; i < data.length; i++) {
    const b = data[i]
    if (inString) {
      if (b === 0x5c) i++
      else if (b === 0x22) inString = false
    } else if (b === 0x22) {
      inString = true
    } else if (b === 0x2c || b === 0x7b || b === 0x5b) {
      // ',' '{' '['
      if (++count > limit) return count
    }
  }
  return count
}

/** JSON.parse, with the store's NaN/Infinity tags revived (session.json is written by toJson). */
function parseJsonEntry(data: Uint8Array, name: string, maxValues: number): unknown {
  if (countJsonValues(data, maxValues) > maxValues) {
    throw new LabError('IMPORT_TOO_LARGE', `${name} holds more than ${maxValues} JSON values (limit)`, { entry: name, limit: maxValues })
  }
  try {
    return fromJson(utf8.decode(data))
  } catch (error) {
    throw invalid(`${name} is not UTF-8 JSON (${(error as Error).message})`)
  }
}

function parseManifest(value: unknown): DlabManifest {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || (value as { format?: unknown }).format !== DLAB_FORMAT) {
    throw invalid(`${MANIFEST_ENTRY} does not describe a DeBERTa Lab session (format must be "${DLAB_FORMAT}")`)
  }
  const version = (value as { formatVersion?: unknown }).formatVersion
  if (typeof version === 'number' && Number.isInteger(version) && version > DLAB_FORMAT_VERSION) {
    const appVersion = (value as { appVersion?: unknown }).appVersion
    throw new LabError(
      'IMPORT_FUTURE_FORMAT',
      `the session file has format version ${version}${typeof appVersion === 'string' ? ` (written by DeBERTa Lab ${appVersion})` : ''}; this app reads up to ${DLAB_FORMAT_VERSION}. Update the app to import it.`,
      { formatVersion: version, supported: DLAB_FORMAT_VERSION },
    )
  }
  return parseWith(manifestSchema, value, 'IMPORT_INVALID', MANIFEST_ENTRY)
}

function verified(bytes: Uint8Array, entry: ZipEntry, sha256: string, maxBytes?: number): Uint8Array {
  const data = extractEntry(bytes, entry, maxBytes)
  const actual = sha256Hex(data)
  if (actual !== sha256) {
    throw new LabError('IMPORT_CHECKSUM', `${entry.name} does not match its checksum (manifest ${sha256.slice(0, 12)}…, file ${actual.slice(0, 12)}…): the file was altered or damaged`, {
      entry: entry.name,
    })
  }
  return data
}

function decodeMetricValue(value: number | 'NaN' | 'Infinity' | '-Infinity'): number {
  if (value === 'NaN') return Number.NaN
  if (value === 'Infinity') return Infinity
  if (value === '-Infinity') return -Infinity
  return value
}

/** session.json as a whole may nest this deep (its own structure is 3 levels; SQLite's JSON stops at 1000). */
const MAX_SESSION_FILE_DEPTH = 128

/**
 * Depth and "__proto__" keys, checked iteratively before the schema (which would drop such keys silently, and
 * whose copies recurse): workspace states to the same depth as the API allows, the rest to a fixed bound.
 */
function checkedShape(value: unknown): unknown {
  const workspaces = (value as { workspaces?: unknown } | null)?.workspaces
  if (workspaces !== null && typeof workspaces === 'object' && !Array.isArray(workspaces)) {
    for (const [id, state] of Object.entries(workspaces)) {
      const problem = jsonShapeProblem(state, MAX_STATE_DEPTH)
      if (problem !== undefined) throw invalid(`the ${JSON.stringify(id.slice(0, 40))} workspace state ${problem}`)
    }
  }
  const problem = jsonShapeProblem(value, MAX_SESSION_FILE_DEPTH)
  if (problem !== undefined) throw invalid(`${SESSION_ENTRY} ${problem}`)
  return value
}

/** Cross-references the strict schema cannot see. */
function checkReferences(file: SessionFile, artifactSizes: ReadonlyMap<string, number>): void {
  const runIds = new Set<string>()
  for (const run of file.runs) {
    if (runIds.has(run.id)) throw invalid(`run ${run.id} appears twice`)
    runIds.add(run.id)
  }
  const metricKeys = new Set<string>()
  for (const m of file.metrics) {
    if (!runIds.has(m.runId)) throw invalid(`a metric refers to run ${m.runId}, which is not in the file`)
    const key = JSON.stringify([m.runId, m.key, m.step])
    if (metricKeys.has(key)) throw invalid(`metric ${m.key} step ${m.step} of run ${m.runId} appears twice`)
    metricKeys.add(key)
  }
  const linkKeys = new Set<string>()
  const used = new Set<string>()
  for (const a of file.artifacts) {
    if (a.runId !== null && !runIds.has(a.runId)) throw invalid(`artifact "${a.name}" refers to run ${a.runId}, which is not in the file`)
    const key = JSON.stringify([a.runId, a.name])
    if (linkKeys.has(key)) throw invalid(`artifact "${a.name}" appears twice`)
    linkKeys.add(key)
    const size = artifactSizes.get(a.sha256)
    if (size === undefined) throw invalid(`artifact "${a.name}" has no ${artifactEntry(a.sha256)} entry`)
    if (size !== a.size) throw invalid(`artifact "${a.name}" is ${size} bytes, ${a.size} declared`)
    used.add(a.sha256)
  }
  for (const sha of artifactSizes.keys()) if (!used.has(sha)) throw invalid(`${artifactEntry(sha)} belongs to no artifact`)
  // A stored result must be one of this file's artifacts, never a blob the store happens to hold.
  for (const run of file.runs) {
    if (isStoredResultRef(run.result) && !used.has(run.result.$storedResult)) {
      throw invalid(`run ${run.id}'s result refers to artifact ${run.result.$storedResult}, which is not in the file`)
    }
  }
}

/**
 * Moves every run result whose JSON text is longer than `largeResultBytes` into a "result.json" artifact of its
 * run (bytes added to `blobs`), leaving a StoredResultRef in the run: the layout ExperimentStore.finishRun
 * gives large results. `plainJson`: the session text held no NaN/Infinity tags, so native JSON.stringify
 * writes exactly what toJson would (and many times faster).
 */
function moveLargeResults(portable: PortableSession, blobs: Map<string, Uint8Array>, largeResultBytes: number, plainJson: boolean): void {
  const hasResultArtifact = new Set(portable.artifacts.filter((a) => a.name === STORED_RESULT_ARTIFACT && a.runId !== null).map((a) => a.runId))
  for (const run of portable.runs) {
    if (run.result === null || run.result === undefined || isStoredResultRef(run.result)) continue
    let text: string
    try {
      text = plainJson ? JSON.stringify(run.result) : toJson(run.result, `the result of run ${run.id}`)
    } catch (error) {
      // a cycle cannot come from JSON; a RangeError here means nesting deeper than the stack
      const why = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message
      throw invalid(`the result of run ${run.id} cannot be stored: ${why}`, { runId: run.id })
    }
    if (text.length <= largeResultBytes) continue
    if (hasResultArtifact.has(run.id)) throw invalid(`run ${run.id} has an inline result of ${text.length} characters and a ${STORED_RESULT_ARTIFACT} artifact`)
    const data = new TextEncoder().encode(text)
    const sha256 = sha256Hex(data)
    blobs.set(sha256, data)
    portable.artifacts.push({
      sha256,
      runId: run.id,
      name: STORED_RESULT_ARTIFACT,
      kind: 'json',
      dtype: null,
      shape: null,
      mime: 'application/json',
      size: data.byteLength,
      createdAt: run.endedAt ?? run.createdAt,
    })
    const ref: StoredResultRef = { $storedResult: sha256, bytes: data.byteLength }
    run.result = ref
  }
}

/** Validates a .dlab file completely and returns its content; throws IMPORT_* LabErrors. */
export function importSessionFile(bytes: Uint8Array, overrides: Partial<ImportLimits> = {}, options: ImportOptions = {}): ParsedSessionFile {
  const limits: ImportLimits = { ...DEFAULT_IMPORT_LIMITS, ...overrides }
  if (!(bytes instanceof Uint8Array)) throw new LabError('INPUT_INVALID', 'a session file must be given as bytes')
  if (bytes.byteLength > limits.maxFileBytes) {
    throw new LabError('IMPORT_TOO_LARGE', `the session file is ${bytes.byteLength} bytes (limit ${limits.maxFileBytes})`, { size: bytes.byteLength })
  }
  const entries = readZipDirectory(bytes, limits.maxEntries)

  // 1. Paths, before anything else is believed.
  for (const entry of entries) checkEntryPath(entry.name)

  // 2. Declared sizes, before anything is inflated.
  let total = 0
  for (const entry of entries) {
    if (entry.size > limits.maxEntryBytes) {
      throw new LabError('IMPORT_TOO_LARGE', `entry "${entry.name}" declares ${entry.size} bytes (limit ${limits.maxEntryBytes} per entry)`, { entry: entry.name })
    }
    total += entry.size
    if (total > limits.maxTotalBytes) {
      throw new LabError('IMPORT_TOO_LARGE', `the session file's entries declare more than ${limits.maxTotalBytes} bytes in all`, { limit: limits.maxTotalBytes })
    }
  }

  // 3. The manifest: format, version, then strict shape.
  const manifestEntry = entries.find((e) => e.name === MANIFEST_ENTRY)
  if (!manifestEntry) throw invalid(`no ${MANIFEST_ENTRY} (not a DeBERTa Lab session file)`)
  if (manifestEntry.size > MAX_MANIFEST_BYTES) throw new LabError('IMPORT_TOO_LARGE', `${MANIFEST_ENTRY} declares ${manifestEntry.size} bytes (limit ${MAX_MANIFEST_BYTES})`)
  const manifestValues = 16 + MANIFEST_VALUES_PER_ENTRY * limits.maxEntries
  const manifest = parseManifest(parseJsonEntry(extractEntry(bytes, manifestEntry, MAX_MANIFEST_BYTES), MANIFEST_ENTRY, manifestValues))

  // 4. The archive holds exactly what the manifest lists, with the sizes it lists.
  const byName = new Map<string, ZipEntry>()
  for (const entry of entries) {
    if (entry.name === MANIFEST_ENTRY) continue
    if (entry.name.endsWith('/')) {
      if (entry.name !== 'artifacts/' || entry.size !== 0) throw invalid(`unexpected folder entry "${entry.name}"`)
      continue
    }
    byName.set(entry.name, entry)
  }
  const listed = new Set<string>()
  const artifactSizes = new Map<string, number>()
  for (const item of manifest.entries) {
    checkEntryPath(item.path)
    if (listed.has(item.path)) throw invalid(`${MANIFEST_ENTRY} lists "${item.path}" twice`)
    listed.add(item.path)
    const entry = byName.get(item.path)
    if (!entry) throw invalid(`"${item.path}" is listed in ${MANIFEST_ENTRY} but missing (truncated file?)`)
    if (entry.size !== item.size) throw invalid(`"${item.path}" is declared as ${entry.size} bytes in the archive and ${item.size} in ${MANIFEST_ENTRY}`)
    if (item.path === SESSION_ENTRY) continue
    if (item.path !== artifactEntry(item.sha256)) throw invalid(`unexpected entry "${item.path}" (artifacts are named artifacts/<sha256>)`)
    artifactSizes.set(item.sha256, item.size)
  }
  for (const name of byName.keys()) if (!listed.has(name)) throw invalid(`entry "${name}" is not listed in ${MANIFEST_ENTRY}`)
  const sessionItem = manifest.entries.find((e) => e.path === SESSION_ENTRY)
  if (!sessionItem) throw invalid(`no ${SESSION_ENTRY}`)

  // 5. session.json: size cap (declared, then while inflating), checksum, value budget, strict schema, references.
  const sessionEntry = byName.get(SESSION_ENTRY) as ZipEntry
  if (sessionEntry.size > limits.maxSessionJsonBytes) {
    throw new LabError('IMPORT_TOO_LARGE', `${SESSION_ENTRY} declares ${sessionEntry.size} bytes (limit ${limits.maxSessionJsonBytes})`, {
      entry: SESSION_ENTRY,
      limit: limits.maxSessionJsonBytes,
    })
  }
  const sessionData = verified(bytes, sessionEntry, sessionItem.sha256, limits.maxSessionJsonBytes)
  const file = parseWith(sessionFileSchema, checkedShape(parseJsonEntry(sessionData, SESSION_ENTRY, limits.maxSessionJsonValues)), 'IMPORT_INVALID', SESSION_ENTRY)
  if (file.session.id !== manifest.sessionId) throw invalid(`${MANIFEST_ENTRY} names session ${manifest.sessionId} but ${SESSION_ENTRY} holds ${file.session.id}`)
  checkReferences(file, artifactSizes)

  // 6. Artifact bytes, each against its content address.
  const blobs = new Map<string, Uint8Array>()
  for (const sha of artifactSizes.keys()) blobs.set(sha, verified(bytes, byName.get(artifactEntry(sha)) as ZipEntry, sha))

  const portable: PortableSession = {
    session: file.session,
    workspaces: file.workspaces as Partial<Record<WorkspaceId, WorkspaceState>>,
    runs: file.runs,
    metrics: file.metrics.map((m) => ({ ...m, value: decodeMetricValue(m.value) })),
    artifacts: file.artifacts,
  }
  if (options.largeResultBytes !== undefined) {
    moveLargeResults(portable, blobs, options.largeResultBytes, !Buffer.from(sessionData.buffer, sessionData.byteOffset, sessionData.byteLength).includes('"$num"'))
  }
  return { manifest, portable, blobs }
}
