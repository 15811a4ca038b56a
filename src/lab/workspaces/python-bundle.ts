// The Python export of a chart whose model transformers cannot load by name: a synthetic model exists only as
// the lab's seeded generator, so its weights go with the script as a Hugging Face folder (config.json from the
// model's config, model.safetensors under the canonical checkpoint names, the tokenizer files it uses). The script
// (renderer/reproduce) reads the folder "model" beside it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { zipSync, type Zippable } from 'fflate'
import type { LabArgs } from '../../common/api'
import { LabError } from '../../common/errors'
import { encodeSafetensors, type HostTensor } from '../../core/checkpoint'
import { toHfConfig } from '../../core/config'
import { syntheticTensorSource } from '../../core/synthetic'
import type { JobHandler } from '../jobs'

/** Largest weights file a bundle carries (it travels as base64 through the API). */
export const MAX_BUNDLE_WEIGHT_BYTES = 256 * 1024 * 1024
/** The synthetic models' tokenizer (resources/tokenizer-spm), as DebertaV2Tokenizer reads it. */
const TOKENIZER_FILES = ['spm.model', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json']

export const pythonBundle: JobHandler<LabArgs<'exportPythonBundle'>[0], { fileName: string; base64: string }> = async (context, request) => {
  const ref = request.model
  if (ref.kind !== 'synthetic') {
    throw new LabError('INPUT_INVALID', 'only synthetic models need their weights in the bundle: the script of a checkpoint or bundled model reads its folder', { field: 'model' })
  }
  if (!context.resourcesDir) throw new LabError('INTERNAL', 'the worker has no resources folder')
  const { model } = await context.getModel(ref)
  const config = model.config
  // the same tensors the lab's model was built from: same config, same seed (createSyntheticModel's defaults)
  const source = syntheticTensorSource(config, { seed: ref.seed })
  const entries = source.entries()
  const bytes = entries.reduce((total, e) => total + 4 * e.shape.reduce((a, b) => a * b, 1), 0)
  if (bytes > MAX_BUNDLE_WEIGHT_BYTES) {
    throw new LabError('INPUT_INVALID', `this synthetic model has ${(bytes / 1024 ** 2).toFixed(0)} MiB of weights; a Python bundle carries at most ${MAX_BUNDLE_WEIGHT_BYTES / 1024 ** 2} MiB`, { field: 'model' })
  }
  const tensors: Record<string, HostTensor> = {}
  for (const [k, entry] of entries.entries()) {
    tensors[entry.name] = { dtype: 'F32', shape: entry.shape, data: source.readFloat32(entry.name) }
    if (k % 16 === 0) {
      context.progress(k / entries.length, 'drawing the weights')
      context.checkCancelled()
    }
  }
  const folder = request.name
  const files: Zippable = {
    [`${folder}/reproduce.py`]: new TextEncoder().encode(request.script),
    [`${folder}/model/config.json`]: new TextEncoder().encode(`${JSON.stringify({ architectures: [], ...toHfConfig(config) }, null, 2)}\n`),
    [`${folder}/model/model.safetensors`]: [encodeSafetensors(tensors, { format: 'pt' }), { level: 0 }],
  }
  for (const name of TOKENIZER_FILES) files[`${folder}/model/${name}`] = readFileSync(join(context.resourcesDir, 'tokenizer-spm', name))
  context.progress(1, 'done')
  return { fileName: `${folder}.zip`, base64: Buffer.from(zipSync(files)).toString('base64') }
}
