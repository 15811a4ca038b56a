// When an e2e test fails, say what the lab and the browser looked like at that moment: for every lab the file
// started (harness.live), whether `serve` is still running, the tail of its stderr and of its log, its sessions and
// jobs; for every open page, its URL, the charts it drew and a screenshot in test-results/failures/. A CI run
// shows only its output, so a failure that does not reproduce here must be readable from it.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach } from 'vitest'
import { live, type ServedLab } from './harness'

const FAILURE_DIR = join('test-results', 'failures')

function tail(text: string, lines: number): string {
  return text.split('\n').filter(Boolean).slice(-lines).join('\n')
}

async function api(lab: ServedLab, method: string): Promise<string> {
  try {
    const response = await fetch(`${lab.origin}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-deberta-lab-token': lab.token },
      body: JSON.stringify({ args: [] }),
      signal: AbortSignal.timeout(5000),
    })
    return (await response.text()).slice(0, 3000)
  } catch (error) {
    return `(no answer: ${(error as Error).message})`
  }
}

async function labReport(lab: ServedLab): Promise<string[]> {
  const child = lab.process
  const out = [`lab ${lab.origin} (store ${lab.storeDir}): serve ${child.exitCode === null && child.signalCode === null ? 'running' : `exited (code ${child.exitCode}, signal ${child.signalCode})`}`]
  out.push('  stderr (tail):', tail(lab.stderr.join(''), 20).replace(/^/gm, '    '))
  const log = join(lab.storeDir, 'logs', 'lab.log')
  out.push('  lab.log (tail):', existsSync(log) ? tail(readFileSync(log, 'utf8'), 40).replace(/^/gm, '    ') : '    (none)')
  out.push(`  listSessions: ${await api(lab, 'listSessions')}`)
  out.push(`  listJobs: ${(await api(lab, 'listJobs')).slice(0, 1500)}`)
  return out
}

/** A page that hangs must not hang the report: at most 5 s per step. */
function within<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref())])
}

async function pageReports(name: string): Promise<string[]> {
  const out: string[] = []
  let n = 0
  for (const browser of live.browsers) {
    for (const context of browser.contexts()) {
      for (const page of context.pages()) {
        n++
        try {
          const charts = await within(
            page.evaluate(`JSON.stringify(Object.fromEntries(Object.entries(globalThis.__debertaLabCharts ?? {}).map(([id, c]) => [id, { version: c.version, rendered: c.rendered }])))`),
          )
          const shot = join(FAILURE_DIR, `${name}-${n}.png`)
          await page.screenshot({ path: shot, fullPage: true, timeout: 5000 })
          out.push(`page ${n}: ${page.url()}`, `  charts: ${String(charts)}`, `  screenshot: ${shot}`)
          const messages = live.messages.get(page) ?? []
          if (messages.length) out.push('  console and network (last 30):', ...messages.map((m) => `    ${m}`))
        } catch (error) {
          out.push(`page ${n}: ${page.url()} (${(error as Error).message.split('\n')[0]})`)
        }
      }
    }
  }
  return out
}

beforeEach((context) => {
  context.onTestFailed(async () => {
    const name = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)
    mkdirSync(FAILURE_DIR, { recursive: true })
    const lines = [`── failure report: ${context.task.name}`]
    for (const lab of live.labs) lines.push(...(await labReport(lab)))
    lines.push(...(await pageReports(name)))
    console.error(lines.join('\n'))
  })
})
