// The LabHost of a plain web page (browser mode): downloads, a file input, no folder dialog, document.title.
import type { LabHost } from '../common/api'
import { LabError } from '../common/errors'
import { base64ToBytes, bytesToBase64 } from './base64'

/** The host abilities of a browser page: downloads, a file input, no folder dialog, document.title. */
export function createBrowserHost(doc: Document = document): LabHost {
  return {
    kind: 'browser',
    async saveFile({ suggestedName, mime, base64 }) {
      const blob = new Blob([base64ToBytes(base64) as BlobPart], { type: mime })
      const url = URL.createObjectURL(blob)
      const anchor = doc.createElement('a')
      anchor.href = url
      anchor.download = suggestedName
      anchor.hidden = true
      doc.body.appendChild(anchor)
      anchor.click()
      anchor.remove()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
      return { saved: true }
    },
    openFile({ accept }) {
      return new Promise((resolve, reject) => {
        const input = doc.createElement('input')
        input.type = 'file'
        input.accept = accept.join(',')
        input.hidden = true
        input.dataset.testid = 'host-file-input'
        const done = (): void => input.remove()
        input.addEventListener('cancel', () => {
          done()
          resolve(null)
        })
        input.addEventListener('change', () => {
          const file = input.files?.[0]
          done()
          if (!file) return resolve(null)
          file.arrayBuffer().then(
            (buffer) => resolve({ name: file.name, base64: bytesToBase64(new Uint8Array(buffer)) }),
            (error: Error) => reject(new LabError('IMPORT_INVALID', `could not read ${file.name}: ${error.message}`)),
          )
        })
        doc.body.appendChild(input)
        input.click()
      })
    },
    async pickModelFolder() {
      return null
    },
    async setTitle(title) {
      doc.title = title
    },
  }
}
