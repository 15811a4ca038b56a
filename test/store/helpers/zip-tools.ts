// Tools to take .dlab files apart and put forged ones together.
import { createHash } from 'node:crypto'
import { unzipSync, zipSync, type Zippable } from 'fflate'

export type Files = Record<string, Uint8Array>

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
export const text = (value: string): Uint8Array => new TextEncoder().encode(value)
export const json = (value: unknown): Uint8Array => text(JSON.stringify(value))
export const parse = <T = Record<string, unknown>>(data: Uint8Array): T => JSON.parse(new TextDecoder().decode(data)) as T

export function unpack(zip: Uint8Array): Files {
  return unzipSync(zip)
}

/** Zips files in their key order (level 0 stores them, so their bytes appear as-is in the archive). */
export function pack(files: Files, level: 0 | 1 | 6 = 6): Uint8Array {
  const zippable: Zippable = {}
  for (const [name, data] of Object.entries(files)) zippable[name] = [data, { level }]
  return zipSync(zippable)
}

interface Manifest {
  entries: Array<{ path: string; sha256: string; size: number }>
  [key: string]: unknown
}

/** Rewrites manifest.json so its entries match the files again (a forger who knows the format). */
export function reseal(files: Files, change: (manifest: Manifest) => void = () => undefined): Files {
  const manifest = parse<Manifest>(files['manifest.json'])
  manifest.entries = Object.keys(files)
    .filter((name) => name !== 'manifest.json')
    .map((path) => ({ path, sha256: sha256(files[path]), size: files[path].byteLength }))
  change(manifest)
  return { ...files, 'manifest.json': json(manifest) }
}

/** Changes the uncompressed size an entry declares, in its central directory and local headers. */
export function patchDeclaredSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice()
  const view = new DataView(out.buffer)
  const nameBytes = text(name)
  const matches = (at: number): boolean => nameBytes.every((b, i) => out[at + i] === b)
  let patched = 0
  for (let at = 0; at + 46 < out.length; at++) {
    const sig = view.getUint32(at, true)
    if (sig === 0x04034b50 && view.getUint16(at + 26, true) === nameBytes.length && matches(at + 30)) {
      view.setUint32(at + 22, size, true)
      patched++
    } else if (sig === 0x02014b50 && view.getUint16(at + 28, true) === nameBytes.length && matches(at + 46)) {
      view.setUint32(at + 24, size, true)
      patched++
    }
  }
  if (patched !== 2) throw new Error(`patched ${patched} headers of ${name}`)
  return out
}
