// A forward split over two threads on the native backend (tfjs-node). TensorFlow's eager kernels gain little from
// a second intra-op thread on these machines (elementwise kernels not at all, matmuls 1.2–1.9×), while two
// threads each running their own single-threaded kernels do not slow each other down (measured: base, T = 128,
// one forward alone 296–350 ms, two at once 306–336 ms each). So a forward's layers are shared between this
// thread and a peer worker thread, each holding one shard of every layer (src/core/shard.ts: half the heads and
// half the feed-forward columns), and the two add their partial outputs twice per layer (after W_O and W_2)
// through shared memory.
//
// Exchange (ReduceChannel): a SharedArrayBuffer with, per side, two regions of T·H floats used alternately (step
// parity): side s writes its partial of step k into its region k % 2, publishes k in its control word and waits
// for the other side's k; it can only write that region again at step k + 2, which needs the other side's k + 1,
// published after it read step k. Both sides add (leader's + peer's) in the same order, so the full outputs are
// bit-identical on both threads and they continue in lockstep without sending hidden states back.
// Runs are numbered; a step's control value is run · 2^16 + step (64-bit words, so the count never runs out). The leader only accepts values of its current
// run, so a peer still inside an abandoned run can never feed it stale partials (the peer finishes or drops that
// run before it takes the next run's message, in order). When the leader abandons a run (its own error, e.g. a
// cancel thrown from a progress callback) it stores the run number in ABORT, so the peer's next wait drops the
// run instead of computing the rest of it. A failing peer sets FAILED: the leader's wait throws, the split
// closes and the model runs its layers on its own thread again (model.forward does this).
//
// Cost: the shards' sliced weights are copies (this thread's half, and the peer's half in its own heap): about the
// model's layer weights once more (base: ~340 MB). Only forwards without recorded terms are split; with
// components or attentions the whole model runs on this thread (the terms of all heads are needed here).
//
// Shapes: T tokens, H hidden
import { existsSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs-core'
import { LabError } from '../common/errors'
import { splitMode } from './backend-env'
import { DebertaModel, type LayerSplit, type ShardRun } from './model'
import { readOnce } from './native-kernels'
import type { EmbeddingWeights, ModelWeights } from './params'
import { shardConfig, shardForwardOptions, shardRanges, shardWeights, type ShardRange } from './shard'
import { unpackedPath } from './wasm-threads'

const LEADER = 0
const PEER = 1
const ABORT = 2
const FAILED = 3
const CONTROL_WORDS = 4
const STEPS_PER_RUN = 1 << 16
/** The other side made no progress for this long: it is taken as failed. */
const STALL_MS = 300_000
/** Spin this long before sleeping in a wait (measured: 2 ms cut base T = 128 from 272 to 238 ms). */
const SPIN_MS = 2
/** How long the peer may take to start and take its weights. */
const START_TIMEOUT_MS = 120_000

/** The other thread failed or stopped; the split is unusable. */
class SplitFailed extends Error {}
/** The leader abandoned the run (peer side). */
class RunAborted extends Error {}

/** One side's end of the shared-memory all-reduce. */
export class ReduceChannel {
  private readonly control: BigInt64Array
  private data: Float32Array
  private capacity: number
  private run = 0
  private step = 0

  constructor(
    readonly side: typeof LEADER | typeof PEER,
    control: SharedArrayBuffer,
    data: SharedArrayBuffer,
  ) {
    this.control = new BigInt64Array(control)
    this.data = new Float32Array(data)
    this.capacity = this.data.length / 4
  }

  static buffers(capacity: number): { control: SharedArrayBuffer; data: SharedArrayBuffer } {
    return { control: new SharedArrayBuffer(CONTROL_WORDS * 8), data: dataBuffer(capacity) }
  }

  /** Floats one side's partial may hold. */
  get size(): number {
    return this.capacity
  }

  useData(data: SharedArrayBuffer): void {
    this.data = new Float32Array(data)
    this.capacity = this.data.length / 4
  }

  begin(run: number): void {
    this.run = run
    this.step = 0
  }

  /**
   * partial (this side's) + the other side's partial of the same step + residual, in one sum with the leader's
   * partial first on both sides (so both hold bit-identical results).
   */
  reduce(partial: tf.Tensor2D, residual: tf.Tensor2D): tf.Tensor2D {
    const n = partial.size
    if (n > this.capacity) throw new SplitFailed(`partial of ${n} floats exceeds the exchange capacity ${this.capacity}`)
    this.step += 1
    if (this.step >= STEPS_PER_RUN) throw new SplitFailed('too many exchanges in one run')
    const parity = this.step % 2
    const other = 1 - this.side
    const mine = readOnce(partial) // on tfjs-node a new buffer each time: freed now, not by a GC that stalls both threads
    this.region(this.side, parity).set(mine.values)
    mine.done()
    const stamp = BigInt(this.run) * BigInt(STEPS_PER_RUN) + BigInt(this.step)
    Atomics.store(this.control, this.side, stamp)
    Atomics.notify(this.control, this.side)
    this.await(other, stamp)
    // a view of the shared region, no copy: the sum below reads it now, and the other side writes this region
    // again only at step + 2, after it has seen this side's step + 1
    const theirs = tf.tensor2d(this.region(other, parity).subarray(0, n), partial.shape)
    return tf.addN(this.side === LEADER ? [partial, theirs, residual] : [theirs, partial, residual])
  }

  /** Leader: drop the current run (the peer's next wait throws RunAborted). */
  abortRun(): void {
    Atomics.store(this.control, ABORT, BigInt(this.run))
    Atomics.notify(this.control, PEER)
  }

  /** This side cannot go on (both sides' waits throw from now on). */
  fail(): void {
    Atomics.store(this.control, FAILED, 1n)
    Atomics.notify(this.control, LEADER)
    Atomics.notify(this.control, PEER)
  }

  private await(other: number, stamp: bigint): void {
    let seen = Atomics.load(this.control, other)
    // spin first: the other side is usually a fraction of a millisecond away, and a sleeping thread (a halted
    // vCPU) takes long to wake
    const spinUntil = performance.now() + SPIN_MS
    while (seen < stamp && performance.now() < spinUntil) seen = Atomics.load(this.control, other)
    let last = Date.now()
    for (;;) {
      if (Atomics.load(this.control, FAILED) !== 0n) throw new SplitFailed('the other thread of the split forward failed')
      if (this.side === PEER && Atomics.load(this.control, ABORT) >= BigInt(this.run)) throw new RunAborted()
      if (seen >= stamp) return
      Atomics.wait(this.control, other, seen, 200)
      const now = Atomics.load(this.control, other)
      if (now !== seen) {
        seen = now
        last = Date.now()
      } else if (Date.now() - last > STALL_MS) {
        this.fail()
        throw new SplitFailed(`the other thread of the split forward made no progress for ${STALL_MS / 1000} s`)
      }
    }
  }

  private region(side: number, parity: number): Float32Array {
    const offset = (side * 2 + parity) * this.capacity
    return this.data.subarray(offset, offset + this.capacity)
  }
}

function dataBuffer(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * capacity * 4) // 2 sides × 2 parities
}

// ---------------------------------------------------------------------------------------------
// Messages between the leader and the peer

interface PeerInit {
  type: 'init'
  backend: string
  control: SharedArrayBuffer
  data: SharedArrayBuffer
  config: DebertaModel['config']
  weights: unknown
}
interface PeerRun {
  type: 'run'
  run: number
  shard: ShardRun
  hidden: Float32Array
  data?: SharedArrayBuffer
}
type ToPeer = PeerInit | PeerRun
type FromPeer = { type: 'ready' } | { type: 'error'; message: string }

/** Tensors → { shape, dtype, data } (own buffers, for a transfer list), everything else as it is. */
function toHost(value: unknown, buffers: ArrayBuffer[]): unknown {
  if (value instanceof tf.Tensor) {
    const data = (value.dataSync() as Float32Array | Int32Array).slice()
    buffers.push(data.buffer as ArrayBuffer)
    return { tensor: true, shape: value.shape, dtype: value.dtype, data }
  }
  if (value instanceof Float32Array) {
    buffers.push(value.buffer as ArrayBuffer)
    return value
  }
  if (Array.isArray(value)) return value.map((v) => toHost(v, buffers))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toHost(v, buffers)]))
  return value
}

function fromHost(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromHost)
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const v = value as { tensor?: boolean; shape?: number[]; dtype?: tf.DataType; data?: Float32Array | Int32Array }
    if (v.tensor === true) return tf.tensor(v.data!, v.shape, v.dtype)
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fromHost(x)]))
  }
  return value
}

/** The embeddings a shard on the peer carries: it never embeds (the leader sends each layer input). */
function placeholderEmbeddings(): EmbeddingWeights {
  return { word: tf.zeros([1, 1]), position: null, tokenType: null, embedProj: null, norm: { gamma: tf.zeros([1]), beta: tf.zeros([1]) } }
}

function shardModel(config: DebertaModel['config'], weights: ModelWeights, ownsWeights: boolean): DebertaModel {
  return new DebertaModel({
    config,
    weights,
    parameterCount: 0,
    hasMlmHead: false,
    hasPositionEmbeddings: false,
    source: { kind: 'derived', from: 'a shard of a split forward' },
    ownsWeights,
    strategy: 'batched',
  })
}

/**
 * The peer's bundle next to the built code (its unpacked copy in a packaged app, beside the unpacked chunks it
 * imports), else the development bootstrap (tsx) beside this file.
 */
export function peerScript(): string {
  for (const candidate of ['./split-peer.js', '../split-peer.js', '../main/split-peer.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(path)) return unpackedPath(path)
  }
  return fileURLToPath(new URL('./split-peer-dev.mjs', import.meta.url))
}

// ---------------------------------------------------------------------------------------------
// Leader

/** This thread's half of a split forward and the peer thread holding the other half. */
export class SplitForward implements LayerSplit {
  private closed = false
  private run = 0

  private constructor(
    private readonly ranges: ShardRange[],
    private readonly shard: DebertaModel,
    private readonly created: tf.Tensor[],
    private readonly peer: Worker,
    private readonly channel: ReduceChannel,
  ) {
    peer.on('error', () => this.dispose())
    peer.on('exit', () => this.dispose())
    peer.unref() // an idle peer does not keep the process alive
  }

  /**
   * Splits `model`'s layers with a new peer thread (on the current backend). The model must compute attention in
   * the batched form and have at least two heads. Attach the result with model.attachSplit.
   */
  static async start(model: DebertaModel, options: { script?: string } = {}): Promise<SplitForward> {
    if (model.strategy !== 'batched') throw new LabError('INPUT_INVALID', 'a split forward needs the batched attention form (the tensorflow backend)')
    const config = model.config
    const ranges = shardRanges(config, 2)
    const mine = shardWeights(model.weights, config, ranges[0], 0, model.weights.embeddings)
    let peer: Worker | null = null
    try {
      const buffers: ArrayBuffer[] = []
      const theirs = shardWeights(model.weights, config, ranges[1], 1, model.weights.embeddings)
      let hostWeights: unknown
      try {
        hostWeights = toHost({ ...theirs.weights, embeddings: null }, buffers)
      } finally {
        tf.dispose(theirs.created)
      }
      const { control, data } = ReduceChannel.buffers(config.hiddenSize * 128)
      peer = new Worker(options.script ?? peerScript(), { workerData: { role: 'split-peer' } })
      const ready = waitForReady(peer)
      peer.postMessage({ type: 'init', backend: tf.getBackend(), control, data, config: shardConfig(config, ranges[1]), weights: hostWeights } satisfies ToPeer, buffers)
      await ready
      const shard = shardModel(shardConfig(config, ranges[0]), mine.weights, false)
      return new SplitForward(ranges, shard, mine.created, peer, new ReduceChannel(LEADER, control, data))
    } catch (error) {
      tf.dispose(mine.created)
      await peer?.terminate()
      throw error
    }
  }

  get usable(): boolean {
    return !this.closed
  }

  layers(run: ShardRun, hidden0: tf.Tensor2D, after: (layer: number, output: tf.Tensor2D) => void): { hidden: tf.Tensor2D; hiddenPrev: tf.Tensor2D } | null {
    if (this.closed) return null
    const [T, H] = hidden0.shape
    let data: SharedArrayBuffer | undefined
    if (T * H > this.channel.size) {
      data = dataBuffer(Math.max(T * H, 2 * this.channel.size))
      this.channel.useData(data)
    }
    this.run += 1
    this.channel.begin(this.run)
    const read = readOnce(hidden0)
    const hidden = Float32Array.from(read.values)
    read.done()
    const message: PeerRun = {
      type: 'run',
      run: this.run,
      shard: { length: run.length, mask: [...run.mask], startLayer: run.startLayer, options: shardForwardOptions(run.options, this.ranges[1]) },
      hidden,
    }
    if (data) message.data = data
    this.peer.postMessage(message satisfies ToPeer, [hidden.buffer])
    const mine: ShardRun = { ...run, options: shardForwardOptions(run.options, this.ranges[0]) }
    try {
      return this.shard.shardLayers(mine, hidden0, (partial, residual) => this.channel.reduce(partial, residual), after)
    } catch (error) {
      if (error instanceof SplitFailed) {
        this.dispose()
        return null
      }
      this.channel.abortRun()
      throw error
    }
  }

  /** Stops the peer and frees this thread's shard (the model's own weights stay). */
  dispose(): void {
    if (this.closed) return
    this.closed = true
    this.channel.fail()
    void this.peer.terminate()
    this.shard.dispose()
    tf.dispose(this.created)
  }
}

function waitForReady(peer: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('INTERNAL', `the split forward's peer thread did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS)
    const done = (): void => {
      clearTimeout(timer)
      peer.off('message', onMessage)
      peer.off('error', onError)
      peer.off('exit', onExit)
    }
    const onMessage = (message: FromPeer): void => {
      done()
      if (message.type === 'ready') resolve()
      else reject(new LabError('INTERNAL', `the split forward's peer thread failed to start: ${message.message}`))
    }
    const onError = (error: Error): void => {
      done()
      reject(new LabError('INTERNAL', `the split forward's peer thread failed to start: ${error.message}`))
    }
    const onExit = (code: number): void => {
      done()
      reject(new LabError('INTERNAL', `the split forward's peer thread exited (code ${code}) while starting`))
    }
    peer.on('message', onMessage)
    peer.on('error', onError)
    peer.on('exit', onExit)
  })
}

// ---------------------------------------------------------------------------------------------
// Peer (src/core/split-peer.ts runs this in its worker thread)

/**
 * Serves one leader: builds the shard from the init message, then runs each sequence's layers in lockstep with
 * the leader. `initBackend` starts the leader's backend in this thread.
 */
export function servePeer(port: { on(event: 'message', listener: (message: ToPeer) => void): void; postMessage(message: FromPeer): void }, initBackend: (name: string) => Promise<unknown>): void {
  let model: DebertaModel | null = null
  let channel: ReduceChannel | null = null
  let chain: Promise<void> = Promise.resolve()
  const handle = async (message: ToPeer): Promise<void> => {
    if (message.type === 'init') {
      try {
        await initBackend(message.backend)
        const weights = fromHost(message.weights) as ModelWeights
        weights.embeddings = placeholderEmbeddings()
        model = shardModel(message.config, weights, true)
        channel = new ReduceChannel(PEER, message.control, message.data)
        port.postMessage({ type: 'ready' })
      } catch (error) {
        port.postMessage({ type: 'error', message: (error as Error).message ?? String(error) })
      }
      return
    }
    if (!model || !channel) return
    if (message.data) channel.useData(message.data)
    const { shard, hidden } = message
    const ch = channel
    const m = model
    try {
      ch.begin(message.run)
      tf.tidy(() => {
        m.shardLayers(shard, tf.tensor2d(hidden, [shard.length, m.config.hiddenSize]), (partial, residual) => ch.reduce(partial, residual))
      })
    } catch (error) {
      if (error instanceof RunAborted) return
      ch.fail()
      port.postMessage({ type: 'error', message: (error as Error).message ?? String(error) })
    }
  }
  port.on('message', (message) => {
    chain = chain.then(() => handle(message))
  })
}

/** Bytes of a model's layer weights (what a split holds once more). */
export function layerWeightBytes(model: DebertaModel): number {
  const { hiddenSize: H, numAttentionHeads: NH, attentionHeadSize: D, intermediateSize: I, numHiddenLayers: L } = model.config
  const A = NH * D
  return 4 * L * (3 * H * A + 3 * A + A * H + H + 2 * H * I + I + H)
}

/**
 * Attaches a split to a model that can take one (batched attention, two heads or more, two cores or more) as
 * DEBERTA_LAB_SPLIT says (src/core/backend-env.ts): unset, only on tensorflow and when the copy of the layer weights
 * a split holds fits an eighth of the machine's memory. Returns why forwards stay on one thread when that is worth
 * saying (too large, or the split failed to start), else null.
 */
export async function splitIfRequested(model: DebertaModel, options: { backend?: string; memoryBudget?: number } = {}): Promise<string | null> {
  const backend = options.backend ?? tf.getBackend()
  const mode = splitMode()
  if (mode === 'off' || availableParallelism() < 2) return null
  if (model.strategy !== 'batched' || model.config.numAttentionHeads < 2 || model.config.intermediateSize < 2) return null
  if (mode === 'auto') {
    if (backend !== 'tensorflow') return null
    const bytes = layerWeightBytes(model)
    if (bytes > (options.memoryBudget ?? totalmem() / 8)) {
      return `forwards run on one thread: a split over two would hold another ${Math.round(bytes / 2 ** 20)} MB of layer weights, more than an eighth of this machine's memory (DEBERTA_LAB_SPLIT=1 forces it)`
    }
  }
  try {
    model.attachSplit(await SplitForward.start(model))
    return null
  } catch (error) {
    return `forwards run on one thread: the split forward did not start (${(error as Error).message})`
  }
}
