// Corpus statistics end to end, in a real Chromium against browser mode with the bundled toy DeBERTa: a binary
// file is refused (typed), a 3000-sentence text file runs as a job with progress, Pause and Cancel; Resume
// continues the cancelled run; the lab is stopped in the middle of the resumed run and started again on the same
// store (an app restart) and Resume finishes it. The charts equal the API's answer for the same corpus computed
// in one go (resumed = uninterrupted), the terms' scores by δ included; the search over the sentences equals the same search over that answer;
// PNG, SVG and CSV export with the corpus' provenance; a reload restores it from the session without recomputing.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CorpusPairResult, CorpusResult } from '../../src/common/corpus'
import type { SessionSnapshot } from '../../src/common/sessions'
import { Rng } from '../../src/core/train/data'
import { TOY_VOCAB, TOY_WORD_CLASSES, shortSentence } from '../../src/core/train/toy-language'
import { callApi, e2eSkipped, launchBrowser, startServe, type ServedLab, SCREENSHOT_DIR } from './harness'

const SENTENCES = 3000
const TOY = { kind: 'bundled', name: 'toy-deberta' } as const

let dir: string
let lab: ServedLab
let browser: Browser
let page: Page

interface TableData {
  kind: 'table'
  columns: string[]
  rows: Array<Array<string | number | null>>
}
interface ChartState {
  version: number
  rendered: boolean
  data: TableData
}

async function waitForChart(chartId: string, afterVersion = 0): Promise<ChartState> {
  await page.waitForFunction(
    ([id, after]) => {
      const entry = (globalThis as unknown as { __debertaLabCharts?: Record<string, ChartState> }).__debertaLabCharts?.[id as string]
      return !!entry && entry.rendered && entry.version > (after as number)
    },
    [chartId, afterVersion] as const,
    { timeout: 60_000 },
  )
  return page.evaluate((id) => {
    const entry = (globalThis as unknown as { __debertaLabCharts: Record<string, ChartState> }).__debertaLabCharts[id]
    return { version: entry.version, rendered: entry.rendered, data: entry.data }
  }, chartId)
}

async function openPage(): Promise<string> {
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true })
  await page.goto(lab.url)
  await page.getByTestId('app').waitFor()
  const current = page.locator('[data-testid="session-item"][aria-current="true"]')
  await current.waitFor({ timeout: 30_000 })
  await page.getByTestId('tab-attention').click()
  return (await current.getAttribute('data-session-id'))!
}

async function chooseFile(path: string): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('corpus-open').click()])
  await chooser.setFiles(path)
}

const progress = async (): Promise<number> => Number(/^(?:paused — )?(\d+) \/ 3000 sentences/.exec((await page.getByTestId('corpus-progress-message').textContent()) ?? '')?.[1] ?? -1)

const checkpointed = async (sessionId: string, runId: string): Promise<boolean> =>
  (await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).artifacts.some((a) => a.runId === runId && a.name === 'checkpoint.bin')

describe.skipIf(e2eSkipped)('corpus statistics in a browser', () => {
  let corpusPath: string
  let text: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deberta-lab-corpus-e2e-'))
    const rng = new Rng(2026)
    text = Array.from({ length: SENTENCES }, () => shortSentence(rng, 8 + rng.int(14)).ids.map((id) => TOY_VOCAB.tokens[id]).join(' ')).join('\n') + '\n'
    corpusPath = join(dir, 'toy-corpus.txt')
    writeFileSync(corpusPath, text)
    writeFileSync(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]))
    lab = await startServe({ storeDir: join(dir, 'store') })
    browser = await launchBrowser()
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs a corpus file with pause, cancel, resume and resume after a restart; charts = API, search, export, reload', async () => {
    const sessionId = await openPage()

    // a binary file is refused with its typed error, before anything runs
    await chooseFile(join(dir, 'image.png'))
    await expect.poll(() => page.getByTestId('corpus-file-error').getAttribute('data-error-code')).toBe('INPUT_INVALID')
    expect(await page.getByTestId('corpus-file-error').textContent()).toContain('not a UTF-8 text file')
    expect(await page.getByTestId('corpus-run').isDisabled()).toBe(true)
    await chooseFile(corpusPath)
    expect(await page.getByTestId('corpus-file').textContent()).toContain('toy-corpus.txt · 3000 sentences')

    // run: progress in sentences and sentences/s; pause holds it; cancel stops it with a checkpoint
    await page.getByTestId('corpus-run').click()
    await expect.poll(progress, { timeout: 60_000, interval: 100 }).toBeGreaterThan(200)
    expect(await page.getByTestId('corpus-progress-message').textContent()).toMatch(/sentences · [\d.]+ sentences\/s/)
    await page.getByTestId('corpus-pause').click()
    await expect.poll(() => page.getByTestId('corpus-progress-message').textContent(), { timeout: 10_000 }).toMatch(/^paused — /)
    // the worker pauses at its next step: progress it reported before it saw the flag may still arrive, so wait
    // until the count stands still, then check that it stays there
    let held = await progress()
    await expect
      .poll(
        async () => {
          const now = await progress()
          const still = now === held
          held = now
          return still
        },
        { timeout: 10_000, interval: 400 },
      )
      .toBe(true)
    await page.waitForTimeout(800)
    expect(await progress()).toBe(held)
    await page.getByTestId('corpus-pause').click()
    await expect.poll(progress, { timeout: 20_000, interval: 100 }).toBeGreaterThan(held + 50)
    await page.getByTestId('corpus-cancel').click()
    await page.getByTestId('corpus-resume').waitFor({ timeout: 30_000 })
    const stoppedText = (await page.getByTestId('corpus-stopped').textContent()) ?? ''
    expect(stoppedText).toMatch(/toy-corpus\.txt: cancelled — cancelled after \d+ of 3000 sentences/)
    const firstStop = Number(/after (\d+) of/.exec(stoppedText)![1])

    // resume; once the resumed run has stored a checkpoint of its own, pause it and stop the lab (an app restart)
    await page.getByTestId('corpus-resume').click()
    await expect.poll(progress, { timeout: 30_000, interval: 100 }).toBeGreaterThan(firstStop)
    // a reload while it runs: the section follows the running job again (progress, Pause)
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.getByTestId('tab-attention').click()
    await expect.poll(progress, { timeout: 30_000, interval: 100 }).toBeGreaterThan(firstStop)
    const resumedRun = (await callApi<Array<{ id: string; name: string; status: string }>>(page, lab.token, 'listRuns', sessionId)).filter((r) => r.name === 'runCorpus').at(-1)!
    expect(resumedRun.status).toBe('running')
    await expect.poll(() => checkpointed(sessionId, resumedRun.id), { timeout: 30_000, interval: 200 }).toBe(true)
    await page.getByTestId('corpus-pause').click()
    await expect.poll(() => page.getByTestId('corpus-progress-message').textContent(), { timeout: 10_000 }).toMatch(/^paused — /)
    await page.close()
    await lab.stop()
    lab = await startServe({ storeDir: join(dir, 'store') })
    expect(await openPage()).toBe(sessionId)
    await page.getByTestId('corpus-resume').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('corpus-stopped').textContent()).toMatch(/toy-corpus\.txt: (cancelled|interrupted)/)
    // the file is not opened again: the run resumes with the corpus it recorded (the page sends only its name,
    // the lab reads the text from the run's artifact; no run config holds the text)
    const [resumeCall] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/runCorpus')), page.getByTestId('corpus-resume').click()])
    expect((resumeCall.postDataJSON() as { args: [{ corpus: object }] }).args[0].corpus).toEqual({ name: 'toy-corpus.txt' })
    const heads = await waitForChart('corpus-heads')
    const runs = await callApi<Array<{ name: string; config: { corpus: object } }>>(page, lab.token, 'listRuns', sessionId)
    expect(runs.filter((r) => r.name === 'runCorpus').map((r) => r.config.corpus)).toEqual(
      Array(3).fill({ name: 'toy-corpus.txt', sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text), lines: 3000, textArtifact: 'corpus.txt' }),
    )
    const summary = (await page.getByTestId('corpus-summary').textContent()) ?? ''
    expect(summary).toMatch(/toy-corpus\.txt · 3000 sentences · \d+ tokens · SHA-256 [0-9a-f]{12}… · .* sentences\/s · resumed after \d+ sentences/)
    expect(Number(/resumed after (\d+)/.exec(summary)![1])).toBeGreaterThan(firstStop)

    // chart data = the API's answer for the same corpus in one go (no session, uninterrupted)
    const api = await callApi<CorpusResult>(page, lab.token, 'runCorpus', { model: TOY, corpus: { name: 'toy-corpus.txt', text } })
    expect(api.corpus.sha256).toBe(createHash('sha256').update(text).digest('hex'))
    expect(heads.data.columns.slice(0, 7)).toEqual(['layer', 'head', 'entropy', 'distance', 'share_c2c', 'share_c2p', 'share_p2c'])
    heads.data.rows.forEach((row, h) => {
      expect(row.slice(0, 4)).toEqual([Math.floor(h / 4), h % 4, api.entropy[h], api.distance[h]])
      expect(row.slice(4, 7)).toEqual(api.shares.slice(h * 3, h * 3 + 3))
      expect(row.slice(7, 10)).toEqual([api.topPairs[h][0].query, api.topPairs[h][0].key, api.topPairs[h][0].total])
    })

    // pick layer 1, head 2 by a click on its cell: the distance chart and the pairs follow
    const grid = await page.evaluate(() => (globalThis as unknown as { __debertaLabCharts: Record<string, { option: { grid: { left: number; right: number; top: number; bottom: number } } }> }).__debertaLabCharts['corpus-heads'].option.grid)
    await page.getByTestId('chart-corpus-heads').scrollIntoViewIfNeeded()
    const box = (await page.getByTestId('chart-corpus-heads').locator('.chart-box').boundingBox())!
    await page.mouse.click(box.x + grid.left + ((box.width - grid.left - grid.right) * 2.5) / 4, box.y + grid.top + ((box.height - grid.top - grid.bottom) * 1.5) / 2)
    await expect.poll(() => page.getByTestId('corpus-layer').inputValue()).toBe('1')
    expect(await page.getByTestId('corpus-head').inputValue()).toBe('2')
    const profile = await waitForChart('corpus-distance')
    expect(profile.data.columns).toEqual(['delta', 'pairs', 'probability_l1h2', 'probability_mean_over_heads'])
    profile.data.rows.forEach((row, k) => expect(row.slice(0, 3)).toEqual([api.profile.distances[k], api.profile.pairs[k], api.profile.probability[6][k]]))
    // under it, each term's mean score by δ for that head: the API's numbers (float32 matrices, sent as lists)
    const termProfile = await waitForChart('corpus-distance-terms')
    expect(api.profile.scoreTerms).toEqual(['c2c', 'c2p', 'p2c'])
    expect(termProfile.data.columns).toEqual(['delta', 'pairs', 'relative_id', 'probability_l1h2', 'c2c_l1h2', 'c2p_l1h2', 'p2c_l1h2'])
    const W = api.profile.distances.length
    expect(termProfile.data.rows).toHaveLength(W)
    termProfile.data.rows.forEach((row, k) =>
      expect(row).toEqual([
        api.profile.distances[k],
        api.profile.pairs[k],
        api.profile.buckets!.ids[k],
        api.profile.probability[6][k],
        ...(['c2c', 'c2p', 'p2c'] as const).map((t) => (api.profile.scores![t]!.data as unknown as number[])[6 * W + k]),
      ]),
    )
    expect(await page.getByTestId('corpus-pairs').locator('tbody tr').first().locator('td').first().textContent()).toBe(api.topPairs[6][0].query)

    // search: sentences with "dog", by the head's mean distance, highest first
    await page.getByTestId('corpus-sort').selectOption('distance')
    await page.getByTestId('corpus-pattern').fill('dog')
    const withDog = api.sentences.tokens.map((tokens, s) => ({ s, has: tokens.includes('dog'), d: api.sentences.distance.data[s * 8 + 6] as unknown as number })).filter((x) => x.has)
    withDog.sort((a, b) => b.d - a.d || a.s - b.s)
    await expect.poll(() => page.getByTestId('corpus-matching').textContent()).toContain(`${withDog.length} sentences match`)
    const hits = page.getByTestId('corpus-hits').locator('li')
    expect(await hits.count()).toBe(20)
    expect(await hits.first().locator('button').textContent()).toBe(text.split('\n')[withDog[0].s])
    // a sentence opens in the charts above at the searched head
    const [opened] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/runAttention')), hits.first().locator('button').click()])
    expect((opened.postDataJSON() as { args: [{ text: string; layer: number; head: number }] }).args[0]).toMatchObject({ text: text.split('\n')[withDog[0].s], layer: 1, head: 2 })

    // by token pair: layer 1, head 2 from verbs to animate nouns (subjects and the like); the ranking is the API's
    await page.getByTestId('corpus-pair-from').fill(TOY_WORD_CLASSES.verb.join('|'))
    await page.getByTestId('corpus-pair-to').fill(TOY_WORD_CLASSES.animate.join('|'))
    const [pairRequest] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/runCorpusPairs')), page.getByTestId('corpus-pair-run').click()])
    const sentPairs = (pairRequest.postDataJSON() as { args: [Record<string, unknown>] }).args[0]
    expect(sentPairs).toMatchObject({ layer: 1, head: 2, model: TOY, corpus: { name: 'toy-corpus.txt', sha256: api.corpus.sha256 } })
    // every sentence of the toy language has a verb and an animate subject: all are candidates
    expect((sentPairs.sentences as unknown[]).length).toBe(SENTENCES)
    const { jobId: _j, sessionId: _s, ...pairArgs } = sentPairs
    const pairs = await callApi<CorpusPairResult>(page, lab.token, 'runCorpusPairs', pairArgs)
    const pairHits = page.getByTestId('corpus-pair-hits').locator('li')
    await expect.poll(() => pairHits.count(), { timeout: 60_000 }).toBe(20)
    for (let k = 0; k < 3; k++) {
      expect(await pairHits.nth(k).locator('button').textContent()).toBe(pairs.hits[k].text)
      expect(await pairHits.nth(k).textContent()).toContain(`strongest ${pairs.hits[k].best.query} → ${pairs.hits[k].best.key}`)
    }

    // exports carry the corpus' provenance
    const chart = page.getByTestId('chart-corpus-heads')
    await chart.scrollIntoViewIfNeeded()
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-corpus-heads-export-csv').click()])
    const lines = readFileSync((await csv.path())!, 'utf8').split('\n')
    expect(lines).toContain('# corpus: toy-corpus.txt')
    expect(lines).toContain('# sentences: 3000')
    expect(lines).toContain(`# corpus_sha256: ${api.corpus.sha256}`)
    expect(lines.find((line) => !line.startsWith('#'))).toBe('layer,head,entropy,distance,share_c2c,share_c2p,share_p2c,top_pair_query,top_pair_key,top_pair_total,top_pair_count,top_pair_mean')
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-corpus-heads-export-png').click()])
    expect(readFileSync((await png.path())!).subarray(1, 4).toString('ascii')).toBe('PNG')
    await page.getByTestId('chart-corpus-distance-terms').scrollIntoViewIfNeeded()
    const [termsCsv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-corpus-distance-terms-export-csv').click()])
    const termLines = readFileSync((await termsCsv.path())!, 'utf8').split('\n')
    expect(termLines).toContain(`# corpus_sha256: ${api.corpus.sha256}`)
    expect(termLines).toContain('# sentences: 3000')
    expect(termLines.find((line) => !line.startsWith('#'))).toBe('delta,pairs,relative_id,probability_l1h2,c2c_l1h2,c2p_l1h2,p2c_l1h2')
    expect(termLines.filter((line) => line !== '' && !line.startsWith('#'))).toHaveLength(W + 1)
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-corpus-distance-export-svg').click()])
    const svgText = readFileSync((await svg.path())!, 'utf8')
    expect(svgText.trimStart()).toMatch(/^<svg[\s>]/)
    expect(svgText).toContain('toy-corpus.txt')

    // the whole section in one picture: a viewport taller than it, so no fixed bar overlaps it
    await page.setViewportSize({ width: 1400, height: 3000 })
    await page.getByTestId('corpus').scrollIntoViewIfNeeded()
    await page.getByTestId('corpus').screenshot({ path: join(SCREENSHOT_DIR, 'corpus.png') })
    await page.setViewportSize({ width: 1400, height: 1000 })

    // reopen: the result and the search come back from the session, nothing is recomputed
    await expect
      .poll(async () => ((await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.attention?.view as { corpus?: { runId?: string; pattern?: string } } | undefined)?.corpus, { timeout: 20_000 })
      .toMatchObject({ runId: expect.stringMatching(/^[0-9a-f-]{36}$/), pattern: 'dog', pairRunId: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
    let recomputed = 0
    page.on('request', (r) => {
      if (/\/api\/runCorpus(Pairs)?$/.test(r.url())) recomputed++
    })
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.getByTestId('tab-attention').click()
    expect((await waitForChart('corpus-heads')).data.rows).toEqual(heads.data.rows)
    await expect.poll(() => page.getByTestId('corpus-matching').textContent()).toContain(`${withDog.length} sentences match`)
    expect(await page.getByTestId('corpus-pattern').inputValue()).toBe('dog')
    await expect.poll(() => page.getByTestId('corpus-pair-hits').locator('li').first().locator('button').textContent()).toBe(pairs.hits[0].text)
    expect(recomputed).toBe(0)
    expect(await page.getByTestId('corpus-resume').count()).toBe(0)
    // 3000 sentences twice (the resumed runs and the uninterrupted reference) and a restart: 55–102 s on a quiet
    // machine, 208 s on a slow host (fewer sentences would let a fast machine finish before the pauses)
  }, 480_000)
})
