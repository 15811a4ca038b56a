// Base64 ⇄ bytes without Node's Buffer (the renderer has no Node), in chunks so large files do not
// overflow String.fromCharCode's argument limit.

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  const chunk = 0x8000
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + chunk))
  }
  return btoa(binary)
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index)
  return bytes
}

export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text))
}

/** The payload of a data: URL (what ECharts' getDataURL returns). */
export function dataUrlToBase64(dataUrl: string): string {
  const comma = dataUrl.indexOf(',')
  if (comma < 0) throw new Error('not a data URL')
  const header = dataUrl.slice(0, comma)
  const payload = dataUrl.slice(comma + 1)
  return header.endsWith(';base64') ? payload : textToBase64(decodeURIComponent(payload))
}
