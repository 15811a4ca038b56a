// Model description and tokenization jobs (cheap, but they load the model, so they run in the worker).
import type { LabArgs, ModelInfo, ModelRef, TokenizedText } from '../../common/api'
import type { JobHandler } from '../jobs'

export const describeModel: JobHandler<ModelRef, ModelInfo> = async (context, ref) => (await context.getModel(ref)).info

export const tokenize: JobHandler<LabArgs<'tokenize'>[0], TokenizedText> = async (context, request) => {
  const { tokenizer } = await context.getModel(request.model)
  const encoding = tokenizer.encode(request.text, request.pair)
  return { tokens: encoding.tokens, inputIds: encoding.inputIds, offsets: encoding.offsets }
}
