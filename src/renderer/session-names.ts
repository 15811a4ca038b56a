// Names of new sessions (pure, unit-tested): a new session is named by its date, and renamed after the text of
// its first run, so a list of sessions does not read "Untitled session" ten times. A name the user typed is
// never replaced.

/** "2026-12-03 09:41" in local time: sortable, and the same in every locale. */
export function sessionStamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** The name a new session gets: "Session 2026-12-03 09:41", or "… 09:41 (2)" when that name is taken. */
export function newSessionName(date = new Date(), taken: readonly string[] = []): string {
  const base = `Session ${sessionStamp(date)}`
  if (!taken.includes(base)) return base
  let k = 2
  while (taken.includes(`${base} (${k})`)) k++
  return `${base} (${k})`
}

/** Names the lab gave (the date name, or the "Untitled session" of earlier versions): the content may replace them. */
export function isAutomaticName(name: string): boolean {
  return name === 'Untitled session' || /^Session \d{4}-\d{2}-\d{2} \d{2}:\d{2}( \(\d+\))?$/.test(name)
}

/** A session named after its first run: "Attention: the small dog sees the small… (2026-12-03 09:41)". */
export function contentSessionName(workspaceLabel: string, text: string, date = new Date(), max = 40): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  const short = flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`
  return short ? `${workspaceLabel}: ${short} (${sessionStamp(date)})` : newSessionName(date)
}

/** Sessions whose name or dates contain every word of the query (case-insensitive). */
export function filterSessions<S extends { name: string; updatedAt: string; createdAt: string }>(sessions: readonly S[], query: string): S[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return sessions.slice()
  return sessions.filter((s) => {
    const haystack = `${s.name} ${shortDate(s.updatedAt)} ${shortDate(s.createdAt)}`.toLowerCase()
    return words.every((w) => haystack.includes(w))
  })
}

/** "2026-12-03 09:41" for an ISO time, or '' when it does not parse. */
export function shortDate(iso: string): string {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : sessionStamp(date)
}
