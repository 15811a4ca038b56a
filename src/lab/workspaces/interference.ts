// How much BERT's summed input embeddings (content + absolute position) mix the two signals, measured.
//
// Recovery R²: take every word of a vocabulary sample at every position 0 … T−1 (a full factorial design)
// and feed the sums s = c_w + p_t to the best linear read-out (least squares with intercept) of the content
// c_w, resp. of the position p_t. R² = explained variance / total variance, summed over the E output
// dimensions (sklearn's "variance_weighted" R²). Over a full factorial design the empirical covariances are
// exact: Cov(s) = Σc + Σp (the cross terms vanish), Cov(s, c) = Σc, Cov(s, p) = Σp, so
//     R²(content)  = tr(Σc (Σc + Σp)⁻¹ Σc) / tr(Σc),   R²(position) = tr(Σp (Σc + Σp)⁻¹ Σp) / tr(Σp)
// which equal the R² of fitting all n·T rows explicitly (the tests check this against such a fit).
// 1 means the read-out separates the signal perfectly; the shortfall is the interference.
//
// Shapes: n sampled words, T positions, E embedding size

/** Centred covariance (1/n)·(X − x̄)ᵀ(X − x̄) of n rows of width E, row-major; [E, E] float64. */
export function covariance(rows: ArrayLike<number>, n: number, width: number): Float64Array {
  const mean = new Float64Array(width)
  for (let r = 0; r < n; r++) for (let c = 0; c < width; c++) mean[c] += rows[r * width + c]
  for (let c = 0; c < width; c++) mean[c] /= n
  const centred = new Float64Array(n * width)
  for (let r = 0; r < n; r++) for (let c = 0; c < width; c++) centred[r * width + c] = rows[r * width + c] - mean[c]
  const cov = new Float64Array(width * width)
  for (let r = 0; r < n; r++) {
    const base = r * width
    for (let a = 0; a < width; a++) {
      const x = centred[base + a]
      if (x === 0) continue
      const rowA = a * width
      for (let b = a; b < width; b++) cov[rowA + b] += x * centred[base + b]
    }
  }
  for (let a = 0; a < width; a++) {
    for (let b = a; b < width; b++) {
      const v = cov[a * width + b] / n
      cov[a * width + b] = v
      cov[b * width + a] = v
    }
  }
  return cov
}

/** Lower Cholesky factor of a symmetric positive-definite [E, E] matrix (row-major, float64). */
export function cholesky(matrix: Float64Array, size: number): Float64Array {
  const L = new Float64Array(size * size)
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * size + j]
      for (let k = 0; k < j; k++) sum -= L[i * size + k] * L[j * size + k]
      if (i === j) {
        if (!(sum > 0)) throw new Error(`matrix is not positive definite at ${i} (pivot ${sum})`)
        L[i * size + i] = Math.sqrt(sum)
      } else {
        L[i * size + j] = sum / L[j * size + j]
      }
    }
  }
  return L
}

/** ‖L⁻¹ B‖²_F = tr(Bᵀ (L Lᵀ)⁻¹ B) for a lower-triangular L and a square B (forward substitution per column). */
export function quadraticTrace(L: Float64Array, B: Float64Array, size: number): number {
  let total = 0
  const y = new Float64Array(size)
  for (let col = 0; col < size; col++) {
    for (let i = 0; i < size; i++) {
      let sum = B[i * size + col]
      for (let k = 0; k < i; k++) sum -= L[i * size + k] * y[k]
      y[i] = sum / L[i * size + i]
      total += y[i] * y[i]
    }
  }
  return total
}

function trace(m: Float64Array, size: number): number {
  let t = 0
  for (let i = 0; i < size; i++) t += m[i * size + i]
  return t
}

export interface RecoveryR2 {
  content: number
  position: number
}

/**
 * Recovery R² of content and of position from content + position, over every (content row, position row)
 * combination. `content` holds n rows, `position` T rows, both of width E.
 */
export function recoveryR2(content: ArrayLike<number>, n: number, position: ArrayLike<number>, T: number, width: number): RecoveryR2 {
  const covC = covariance(content, n, width)
  const covP = covariance(position, T, width)
  const sum = new Float64Array(width * width)
  for (let k = 0; k < sum.length; k++) sum[k] = covC[k] + covP[k]
  // A vanishing ridge keeps the factorisation defined when n + T − 2 < E (singular Cov(s)); directions with
  // no variance carry none of Σc or Σp either, so the limit is the pseudo-inverse solution.
  const ridge = (1e-10 * trace(sum, width)) / width || 1e-30
  for (let i = 0; i < width; i++) sum[i * width + i] += ridge
  const L = cholesky(sum, width)
  const totalC = trace(covC, width)
  const totalP = trace(covP, width)
  return {
    content: totalC > 0 ? quadraticTrace(L, covC, width) / totalC : 0,
    position: totalP > 0 ? quadraticTrace(L, covP, width) / totalP : 0,
  }
}

/** Cosine similarity of rows a and b of a [rows, width] array. */
export function rowCosine(data: ArrayLike<number>, width: number, a: number, b: number): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let c = 0; c < width; c++) {
    const x = data[a * width + c]
    const y = data[b * width + c]
    dot += x * y
    na += x * x
    nb += y * y
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0
}

/** Word ids to measure with: the whole vocabulary up to `max`, else `max` ids spread evenly over it. */
export function vocabularySample(vocabSize: number, max = 4096): number[] {
  if (vocabSize <= max) return Array.from({ length: vocabSize }, (_, k) => k)
  return Array.from({ length: max }, (_, k) => Math.floor((k * vocabSize) / max))
}

/** Positions of each id that occurs more than once (first two occurrences), skipping `skip` ids. */
export function repeatedTokens(ids: number[], skip: Set<number>): Array<{ id: number; positions: [number, number] }> {
  const first = new Map<number, number>()
  const out: Array<{ id: number; positions: [number, number] }> = []
  const done = new Set<number>()
  ids.forEach((id, position) => {
    if (skip.has(id) || done.has(id)) return
    const seen = first.get(id)
    if (seen === undefined) first.set(id, position)
    else {
      out.push({ id, positions: [seen, position] })
      done.add(id)
    }
  })
  return out
}
