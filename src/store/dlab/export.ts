// Writing a .dlab file: a ZIP holding manifest.json, session.json and artifacts/<sha256>.
import { createHash } from 'node:crypto'
import { zipSync, type Zippable } from 'fflate'
import { APP_VERSION } from '../../common/version'
import { DLAB_FORMAT, DLAB_FORMAT_VERSION, type DlabManifest, type SessionFile } from '../schemas'
import type { PortableSession } from '../snapshot'
import { toJson } from '../json'

export const SESSION_ENTRY = 'session.json'
export const MANIFEST_ENTRY = 'manifest.json'
export const artifactEntry = (sha256: string): string => `artifacts/${sha256}`

/** JSON has no NaN or Infinity: metric values are written as these strings. */
export function encodeMetricValue(value: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return 'Infinity'
  if (value === -Infinity) return '-Infinity'
  return value
}

export function toSessionFile(portable: PortableSession): SessionFile {
  return {
    ...portable,
    metrics: portable.metrics.map((m) => ({ ...m, value: encodeMetricValue(m.value) })),
  } as SessionFile
}

const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const encoder = new TextEncoder()

/** The .dlab bytes for a session; `blobs` holds the bytes of every artifact sha256 it mentions. */
export function exportSessionFile(portable: PortableSession, blobs: ReadonlyMap<string, Uint8Array>, createdAt: string): Uint8Array {
  const sessionJson = encoder.encode(toJson(toSessionFile(portable), 'the session'))
  const entries: DlabManifest['entries'] = [{ path: SESSION_ENTRY, sha256: sha256Hex(sessionJson), size: sessionJson.byteLength }]
  for (const [sha256, data] of blobs) entries.push({ path: artifactEntry(sha256), sha256, size: data.byteLength })
  const manifest: DlabManifest = {
    format: DLAB_FORMAT,
    formatVersion: DLAB_FORMAT_VERSION,
    appVersion: APP_VERSION,
    sessionId: portable.session.id,
    createdAt,
    entries,
  }
  // manifest.json first, so a reader meets the format and version before anything else.
  const files: Zippable = {
    [MANIFEST_ENTRY]: [encoder.encode(JSON.stringify(manifest, null, 2)), { level: 6 }],
    [SESSION_ENTRY]: [sessionJson, { level: 6 }],
  }
  // PNG is compressed already; tensors and weights barely compress: spend little time on them.
  for (const [sha256, data] of blobs) files[artifactEntry(sha256)] = [data, { level: 1 }]
  return zipSync(files)
}
