// Two browser-mode servers on one host in one Chromium profile: each keeps its own token cookie (the port is in its
// name, as browsers scope cookies to the host, not the port), so neither tab loses its lab to the other.
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { e2eSkipped, launchBrowser, startServe, type ServedLab } from './harness'

let first: ServedLab
let second: ServedLab
let browser: Browser
let context: BrowserContext

describe.skipIf(e2eSkipped)('browser-mode token cookies of two servers', () => {
  beforeAll(async () => {
    ;[first, second] = await Promise.all([startServe(), startServe()])
    browser = await launchBrowser()
    context = await browser.newContext()
  })

  afterAll(async () => {
    await browser?.close()
    await Promise.all([first?.stop(), second?.stop()])
  })

  it('a second serve does not overwrite the first one’s cookie, and no server accepts the other’s', async () => {
    const page = await context.newPage()
    expect((await page.goto(first.url))?.status()).toBe(200)
    expect((await page.goto(second.url))?.status()).toBe(200)
    const cookies = await context.cookies('http://127.0.0.1/')
    expect(cookies.map((c) => c.name).sort()).toEqual([`deberta_lab_token_${new URL(first.url).port}`, `deberta_lab_token_${new URL(second.url).port}`].sort())
    // the first tab, reloaded without its ?token=, still gets its page and assets through its own cookie
    expect((await page.goto(first.origin + '/'))?.status()).toBe(200)
    await page.getByTestId('app').waitFor({ timeout: 30_000 })
    // a cookie named for one port means nothing to the other server
    const firstCookie = cookies.find((c) => c.name.endsWith(new URL(first.url).port))!
    const answer = await fetch(`${second.origin}/api/getStatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `deberta_lab_token_${new URL(second.url).port}=${firstCookie.value}` },
      body: '{"args":[]}',
    })
    expect(answer.status).toBe(401)
  })
})
