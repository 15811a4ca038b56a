// Fails the e2e run early, with instructions, when no browser is available (unless E2E=skip).
import { existsSync } from 'node:fs'
import { findChromium } from './harness'

export default function setup(): void {
  if (process.env.E2E === 'skip') return
  if (!existsSync('out/renderer/index.html') || !existsSync('out/main/cli.js')) {
    throw new Error('e2e: the app is not built. Run `npm run build` first (npm test does).')
  }
  if (!findChromium()) {
    throw new Error(
      'e2e: no Chromium found. Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH=/path/to/chrome. ' +
        'To run without the end-to-end tests, set E2E=skip explicitly.',
    )
  }
}
