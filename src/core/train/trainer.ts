// Training in tfjs: autodiff (tf.variableGrads), AdamW (Adam + decoupled weight decay), linear warm-up then
// linear decay, global-norm gradient clipping. Deterministic for a seed and a backend: the model init and the
// batches are seeded, and every step runs the same ops in the same order.
//
// Origins: AdamW — Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019), in PyTorch's
// torch.optim.AdamW form: p ← p − lr·λ·p, then p ← p − lr·m̂ / (sqrt(v̂) + ε) with bias-corrected moments.
// Schedule — HF transformers get_linear_schedule_with_warmup. Clipping — torch.nn.utils.clip_grad_norm_
// (scale = maxNorm / (‖g‖ + 1e-6) when ‖g‖ > maxNorm).
import * as tf from '@tensorflow/tfjs-core'
import { LabError } from '../../common/errors'
import type { Batch } from './data'
import { scorePredictions, type TrainableModel } from './model'

/** PyTorch AdamW defaults (torch.optim.AdamW). */
export const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const
/** torch.nn.utils.clip_grad_norm_'s guard against division by zero. */
export const CLIP_EPSILON = 1e-6

export interface AdamWConfig {
  beta1: number
  beta2: number
  epsilon: number
  /** λ: decoupled weight decay (applied to the parameters selected by `decay`) */
  weightDecay: number
}

export interface ScheduleConfig {
  /** peak learning rate */
  learningRate: number
  warmupSteps: number
  totalSteps: number
}

/**
 * Learning rate of 0-based step s: peak·(s + 1)/warmup during warm-up, then linear decay reaching 0 after the
 * last step: peak·(total − s)/(total − warmup). (HF's linear schedule evaluated at s + 1 during warm-up so the
 * first step does not have lr = 0.)
 */
export function learningRateAt(step: number, s: ScheduleConfig): number {
  if (step < s.warmupSteps) return (s.learningRate * (step + 1)) / s.warmupSteps
  const decaySteps = s.totalSteps - s.warmupSteps
  if (decaySteps <= 0) return s.learningRate
  return s.learningRate * Math.max(0, (s.totalSteps - step) / decaySteps)
}

/** Global L2 norm of the gradients and the gradients scaled to it (torch clip_grad_norm_). Tensors are new. */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: number } {
  const norm = Math.sqrt(
    tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]),
  )
  const scale = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + CLIP_EPSILON) : 1
  return { clipped: grads.map((g) => (scale === 1 ? tf.clone(g) : tf.mul(g, scale))), norm }
}

/** A non-trainable variable of zeros shaped like t (the initial tensor is released: tf.variable copies it). */
function zeroVariable(t: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(t)
  const v = tf.variable(zeros, false)
  zeros.dispose()
  return v
}

/** AdamW over a fixed list of variables; state lives on the backend. */
export class AdamW {
  private readonly m: tf.Variable[]
  private readonly v: tf.Variable[]
  private t = 0

  constructor(
    private readonly params: tf.Variable[],
    private readonly config: AdamWConfig = ADAMW_DEFAULTS,
    /** which parameters get weight decay (default: matrices, not biases and LayerNorm vectors) */
    private readonly decay: boolean[] = params.map((p) => p.rank >= 2),
  ) {
    this.m = params.map((p) => zeroVariable(p))
    this.v = params.map((p) => zeroVariable(p))
  }

  get stepCount(): number {
    return this.t
  }

  /** One update with gradients aligned to the parameters. */
  step(grads: tf.Tensor[], learningRate: number): void {
    if (grads.length !== this.params.length) throw new LabError('INTERNAL', `AdamW: ${grads.length} gradients for ${this.params.length} parameters`)
    this.t++
    const { beta1, beta2, epsilon, weightDecay } = this.config
    const correction1 = 1 - Math.pow(beta1, this.t)
    const correction2 = 1 - Math.pow(beta2, this.t)
    tf.tidy(() => {
      this.params.forEach((p, k) => {
        const g = grads[k]
        const m = tf.add(tf.mul(this.m[k], beta1), tf.mul(g, 1 - beta1))
        const v = tf.add(tf.mul(this.v[k], beta2), tf.mul(tf.square(g), 1 - beta2))
        this.m[k].assign(m)
        this.v[k].assign(v)
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon))
        const decayed = this.decay[k] && weightDecay > 0 ? tf.mul(p, 1 - learningRate * weightDecay) : p
        p.assign(tf.sub(decayed, tf.mul(update, learningRate)))
      })
    })
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose()
  }
}

export interface TrainProgress {
  /** 1-based step just finished */
  step: number
  totalSteps: number
  loss: number
  /** training-batch accuracy of this step (before the update) */
  accuracy: number
  learningRate: number
  /** gradient norm before clipping */
  gradNorm: number
}

export interface TrainOptions extends ScheduleConfig {
  /** the batch of 0-based step s (seeded by the caller) */
  makeBatch: (step: number) => Batch
  optimizer?: Partial<AdamWConfig>
  /** ≤ 0: no clipping */
  clipNorm: number
  /** called after every step; throwing from it stops training (cancel); the model keeps its weights */
  onProgress?: (progress: TrainProgress) => void
  /** called before every step; throw (e.g. LabError CANCELLED) to stop */
  checkCancelled?: () => void
  /**
   * The loss to minimise and the logits scored for the step's accuracy (runs inside the gradient tape).
   * Default: model.logits and the masked cross-entropy.
   */
  objective?: (model: TrainableModel, batch: Batch) => { loss: tf.Scalar; logits: tf.Tensor2D }
}

export interface TrainResult {
  steps: number
  losses: number[]
  accuracies: number[]
  gradNorms: number[]
  milliseconds: number
}

/** Trains the model in place. Leaves no tensors behind (also when cancelled). */
export function train(model: TrainableModel, options: TrainOptions): TrainResult {
  return drain(trainSteps(model, options))
}

/** Runs a step generator to its end synchronously. */
export function drain<R>(steps: Generator<void, R>): R {
  for (;;) {
    const next = steps.next()
    if (next.done) return next.value
  }
}

/**
 * train() one step at a time: yields after every step, so an async caller can let the event loop run between
 * steps (a CLI's SIGINT handler, say). Closing the generator early (return / throw) still frees the optimizer.
 */
export function* trainSteps(model: TrainableModel, options: TrainOptions): Generator<void, TrainResult> {
  const { totalSteps } = options
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new LabError('INPUT_INVALID', `totalSteps must be a positive integer (got ${totalSteps})`)
  const variables = model.variables
  const optimizer = new AdamW(variables, { ...ADAMW_DEFAULTS, ...options.optimizer })
  const result: TrainResult = { steps: 0, losses: [], accuracies: [], gradNorms: [], milliseconds: 0 }
  const started = performance.now()
  try {
    for (let s = 0; s < totalSteps; s++) {
      options.checkCancelled?.()
      const batch = options.makeBatch(s)
      let predictions: tf.Tensor | null = null
      const { value, grads } = tf.variableGrads(() => {
        if (options.objective) {
          const { loss, logits } = options.objective(model, batch)
          predictions = tf.keep(tf.argMax(logits, 1))
          return loss
        }
        const logits = model.logits(batch)
        predictions = tf.keep(tf.argMax(logits, 1))
        return model.lossFromLogits(logits, batch)
      }, variables)
      let loss: number
      let predicted: Int32Array
      try {
        loss = value.dataSync()[0]
        predicted = (predictions as tf.Tensor | null)?.dataSync() as Int32Array
        // variables the loss does not reach (e.g. rel embeddings of a c2c-only model) get zero gradients
        const missing = variables.filter((v) => !grads[v.name]).map((v) => [v.name, tf.zerosLike(v)] as const)
        for (const [name, zeros] of missing) grads[name] = zeros
        const ordered = variables.map((v) => grads[v.name])
        const { clipped, norm } = clipByGlobalNorm(ordered, options.clipNorm)
        const lr = learningRateAt(s, options)
        optimizer.step(clipped, lr)
        tf.dispose(clipped)
        const accuracy = scorePredictions(batch, predicted, loss).accuracy
        result.steps = s + 1
        result.losses.push(loss)
        result.accuracies.push(accuracy)
        result.gradNorms.push(norm)
        if (!Number.isFinite(loss)) throw new LabError('INTERNAL', `training diverged at step ${s + 1} (loss ${loss})`)
        options.onProgress?.({ step: s + 1, totalSteps, loss, accuracy, learningRate: lr, gradNorm: norm })
      } finally {
        value.dispose()
        tf.dispose(Object.values(grads))
        if (predictions) (predictions as tf.Tensor).dispose()
      }
      yield
    }
  } finally {
    optimizer.dispose()
    result.milliseconds = performance.now() - started
  }
  return result
}
