// Measures a plain wasm SIMD GEMM written here against tfjs-backend-wasm's XNNPACK matmul, one thread each, on the
// dense shapes of a base layer — the evidence for the lab's GEMM (src/core/wasm-gemm.ts, the `gemm` kernel of
// src/core/wasm-kernels.wat, which grew out of this text; GEMM_MR=3|5|6 tries other block heights): on the AMD EPYC (Zen 4) host a
// 4×8 register-blocked kernel of 128-bit f32x4.mul + f32x4.add (no packing beyond 8-column panels of the weight, no
// cache blocking) ran at 41–43 GFLOP/s where XNNPACK (tfjs-wasm 4.22) runs 27–30, and with relaxed SIMD's FMA
// (`node --experimental-wasm-relaxed-simd`, on by default in Chromium/Electron) at 44–53. With --threads 2 a worker
// thread runs the same kernel on the same shared memory over half of the weight's panels, woken through Atomics
// (no copy): 79–85 GFLOP/s there, where tfjs-wasm's threaded build (XNNPACK's pool) runs the shapes at 55–57.
// usage: npx tsx scripts/bench-wasm-gemm.ts [--seq 128,512] [--repeats 9] [--relaxed] [--threads 1|2]
//        (--relaxed needs: node --experimental-wasm-relaxed-simd --import tsx scripts/bench-wasm-gemm.ts --relaxed)
// Prints per shape: ms and GFLOP/s of the kernel and of tf.matMul on the single-threaded wasm backend, and the
// kernel's largest difference to tf.matMul.
import * as tf from '@tensorflow/tfjs-core'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import wabtInit from 'wabt'
import { initBackend } from '../src/core/backend'
import { fillNormalSeeded } from '../src/core/synthetic'

const MR = Number(process.env.GEMM_MR ?? 4) // rows per block; 8 columns per panel (two f32x4): 2·MR accumulators, 2 weight vectors, 1 splat

/** C[m, n] = A[m, k]·W (C's rows ldc apart), W packed as panels [n/8][k][8]; m a multiple of MR, n of 8. */
function gemmText(relaxed: boolean): string {
  const madd = (a: string, b: string, c: string): string => (relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`)
  const rows = Array.from({ length: MR }, (_, r) => r)
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "gemm") (param $a0 i32) (param $bp i32) (param $c0 i32) (param $m i32) (param $k i32) (param $n i32) (param $ldc i32)
    (local $i i32) (local $p i32) (local $kk i32) (local $kbytes i32) (local $nbytes i32) (local $w i32) (local $out i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    ${rows.map((r) => `(local $c${r}l v128) (local $c${r}h v128) (local $row${r} i32)`).join(' ')}
    (local.set $kbytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $nbytes (i32.shl (local.get $ldc) (i32.const 2)))
    (loop $panels
      (local.set $i (i32.const 0))
      (loop $blocks
        ${rows.map((r) => `(local.set $row${r} (i32.add (local.get $a0) (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $kbytes))))`).join('\n        ')}
        ${rows.map((r) => `(local.set $c${r}l (v128.const i32x4 0 0 0 0)) (local.set $c${r}h (v128.const i32x4 0 0 0 0))`).join('\n        ')}
        (local.set $kk (i32.const 0))
        (local.set $w (i32.add (local.get $bp) (i32.mul (local.get $p) (i32.shl (local.get $k) (i32.const 5)))))
        (loop $ks
          (local.set $b0 (v128.load (local.get $w)))
          (local.set $b1 (v128.load offset=16 (local.get $w)))
          ${rows
            .map(
              (r) => `(local.set $a (v128.load32_splat (i32.add (local.get $row${r}) (local.get $kk))))
          (local.set $c${r}l ${madd('(local.get $a)', '(local.get $b0)', `(local.get $c${r}l)`)})
          (local.set $c${r}h ${madd('(local.get $a)', '(local.get $b1)', `(local.get $c${r}h)`)})`,
            )
            .join('\n          ')}
          (local.set $w (i32.add (local.get $w) (i32.const 32)))
          (local.set $kk (i32.add (local.get $kk) (i32.const 4)))
          (br_if $ks (i32.lt_u (local.get $kk) (local.get $kbytes))))
        (local.set $out (i32.add (local.get $c0) (i32.add (i32.mul (local.get $i) (local.get $nbytes)) (i32.shl (local.get $p) (i32.const 5)))))
        ${rows
          .map(
            (r) => `(v128.store (local.get $out) (local.get $c${r}l))
        (v128.store offset=16 (local.get $out) (local.get $c${r}h))
        (local.set $out (i32.add (local.get $out) (local.get $nbytes)))`,
          )
          .join('\n        ')}
        (local.set $i (i32.add (local.get $i) (i32.const ${MR})))
        (br_if $blocks (i32.lt_u (local.get $i) (local.get $m))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $panels (i32.lt_u (i32.shl (local.get $p) (i32.const 3)) (local.get $n))))))`
}

interface Gemm {
  gemm(a: number, bp: number, c: number, m: number, k: number, n: number, ldc: number): void
}

/** The helper thread: waits on control word 0, runs the job in words 1–7, raises word 15 when done; −1 stops it. */
const WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads'
const { memory, bytes } = workerData
const { gemm } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports
const control = new Int32Array(memory.buffer, 0, 16)
parentPort.postMessage('ready')
for (;;) {
  Atomics.wait(control, 0, 0)
  if (control[0] === -1) break
  gemm(control[1], control[2], control[3], control[4], control[5], control[6], control[7])
  Atomics.store(control, 0, 0)
  Atomics.store(control, 15, 1)
  Atomics.notify(control, 15)
}`

const { WebAssembly: webAssembly } = globalThis as unknown as {
  WebAssembly: {
    Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer; grow(pages: number): number }
    Module: new (bytes: Uint8Array) => object
    Instance: new (module: object, imports: object) => { exports: Gemm }
  }
}

function median(times: number[]): number {
  const sorted = [...times].sort((p, q) => p - q)
  return sorted[sorted.length >> 1]
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seq: { type: 'string', default: '128,512' },
      repeats: { type: 'string', default: '9' },
      relaxed: { type: 'boolean', default: false },
      threads: { type: 'string', default: '1' },
    },
  })
  const threads = Number(values.threads)
  if (threads !== 1 && threads !== 2) throw new Error('--threads is 1 or 2')
  process.env.DEBERTA_LAB_THREADS = '1'
  await initBackend('wasm')
  const wabt = await wabtInit()
  const features = { simd: true, threads: true, relaxed_simd: values.relaxed }
  const parsed = wabt.parseWat('gemm.wat', gemmText(values.relaxed), features)
  ;(parsed as unknown as { validate(features: object): void }).validate(features) // wabt's typings omit the features argument
  const bytes = new Uint8Array(parsed.toBinary({}).buffer)
  parsed.destroy()
  const memory = new webAssembly.Memory({ initial: 1, maximum: 65536, shared: true })
  const { gemm } = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } }).exports
  const control = new Int32Array(memory.buffer, 0, 16) // heap bytes 0–63; the operands start at 64 KiB
  const helper = threads === 2 ? new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`), { workerData: { memory, bytes } }) : null
  if (helper) await new Promise((resolve) => helper.once('message', resolve))
  /** C = A·W: on two threads, the helper takes the second half of the panels */
  const multiply = (a: number, w: number, c: number, m: number, k: number, n: number): void => {
    if (!helper) return gemm(a, w, c, m, k, n, n)
    const half = Math.floor(n / 16) * 8
    control.set([1, a, w + half * k * 4, c + half * 4, m, k, n - half, n], 0)
    control[15] = 0
    Atomics.notify(control, 0)
    gemm(a, w, c, m, k, half, n)
    while (Atomics.load(control, 15) === 0) Atomics.wait(control, 15, 0, 1)
  }
  const repeats = Number(values.repeats)
  console.log(`kernel: ${MR}×8 blocks, ${values.relaxed ? 'relaxed_madd (FMA)' : 'f32x4.mul + f32x4.add'}, ${threads} thread(s); tf.matMul: tfjs-backend-wasm, 1 thread`)
  for (const T of values.seq!.split(',').map(Number)) {
    for (const [k, n] of [[768, 2304], [768, 768], [768, 3072], [3072, 768]]) {
      const m = Math.ceil(T / MR) * MR
      const a = new Float32Array(m * k)
      const w = new Float32Array(k * n)
      fillNormalSeeded(a, 1, 1)
      fillNormalSeeded(w, 2, 0.05)
      // heap: A | packed W | C
      const bytesNeeded = 4 * (m * k + k * n + m * n) + 65536
      const have = memory.buffer.byteLength
      if (bytesNeeded > have) memory.grow(Math.ceil((bytesNeeded - have) / 65536))
      const heap = new Float32Array(memory.buffer)
      const A = 16384 // floats: 64 KiB
      const W = A + m * k
      const C = W + k * n
      heap.set(a, A)
      for (let p = 0; p < n / 8; p++) for (let kk = 0; kk < k; kk++) for (let j = 0; j < 8; j++) heap[W + (p * k + kk) * 8 + j] = w[kk * n + p * 8 + j]
      const kernelTimes: number[] = []
      for (let r = 0; r < repeats + 2; r++) {
        const t0 = performance.now()
        multiply(4 * A, 4 * W, 4 * C, m, k, n)
        if (r >= 2) kernelTimes.push(performance.now() - t0)
      }
      const x = tf.tensor2d(a, [m, k])
      const weight = tf.tensor2d(w, [k, n])
      const tfjsTimes: number[] = []
      for (let r = 0; r < repeats + 2; r++) {
        const t0 = performance.now()
        const y = tf.matMul(x, weight)
        if (r >= 2) tfjsTimes.push(performance.now() - t0)
        if (r === repeats + 1) {
          const expected = y.dataSync()
          let worst = 0
          for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - heap[C + i]))
          const flops = 2 * m * k * n
          const ours = median(kernelTimes)
          const theirs = median(tfjsTimes)
          console.log(
            `[${m}, ${k}]·[${k}, ${n}]  kernel ${ours.toFixed(2)} ms ${(flops / ours / 1e6).toFixed(1)} GFLOP/s  tf.matMul ${theirs.toFixed(2)} ms ${(flops / theirs / 1e6).toFixed(1)} GFLOP/s  max |diff| ${worst.toExponential(1)}`,
          )
        }
        y.dispose()
      }
      x.dispose()
      weight.dispose()
    }
  }
  if (helper) {
    Atomics.store(control, 0, -1)
    Atomics.notify(control, 0)
    await helper.terminate()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
