// What to do next, for each error code a workspace can meet (shown under the error where it happened).
import type { ErrorCode, ErrorData } from '../common/errors'

const ADVICE: Partial<Record<ErrorCode, string>> = {
  CONFIG_INVALID: 'Fix the model settings named in the message (e.g. hidden size must be a multiple of the head count).',
  CONFIG_UNSUPPORTED: 'The current model cannot do this (the message says why): choose a model that can — Change model… above.',
  CHECKPOINT_NOT_FOUND: 'Check the folder path: it must contain config.json and model.safetensors or pytorch_model.bin.',
  CHECKPOINT_FORMAT: 'The weights file is not a readable safetensors or PyTorch file: download it again.',
  CHECKPOINT_TRUNCATED: 'The weights file ends early (interrupted download?): download it again.',
  CHECKPOINT_UNSAFE: 'The PyTorch file contains code the lab will not run: use the model.safetensors version instead.',
  CHECKPOINT_MISSING_KEY: 'The weights do not match config.json: check that both files come from the same model.',
  CHECKPOINT_EXTRA_KEY: 'The weights do not match config.json: check that both files come from the same model.',
  CHECKPOINT_SHAPE: 'A tensor has the wrong shape for config.json: check that both files come from the same model.',
  CHECKPOINT_DTYPE: 'A tensor has an unsupported data type: use a float32/float16/bfloat16 checkpoint.',
  TOKENIZER_NOT_FOUND: 'Add the tokenizer files (spm.model or tokenizer.json) to the model folder.',
  TOKENIZER_FORMAT: 'The tokenizer file could not be read: download it again.',
  HUB_OFFLINE: 'The Hugging Face Hub cannot be reached: check the network (or HF_ENDPOINT), or choose a model already on this computer.',
  HUB_UNAUTHORIZED: 'Check the repository id; for a private repository start the lab with HF_TOKEN set to a token that can read it.',
  HUB_GATED: 'Accept the model’s conditions on its Hub page, then start the lab with HF_TOKEN set to a token of that account.',
  HUB_NOT_FOUND: 'Check the repository id and the revision (branch, tag or commit) on the Hub.',
  HUB_ERROR: 'The Hub answered unexpectedly: try again later.',
  DISK_FULL: 'Free disk space where the Hugging Face cache is (or point HF_HUB_CACHE elsewhere), then download again: finished files are kept.',
  DOWNLOAD_CHECKSUM: 'The file arrived damaged and was deleted: download again.',
  INPUT_INVALID: 'Check the inputs named in the message.',
  SEQUENCE_TOO_LONG: 'Shorten the text to the limit in the message (when the limit is the model’s position table, a model with more positions also works).',
  TOKEN_OUT_OF_RANGE: 'The tokenizer and the model disagree on the vocabulary: use files from the same model.',
  NO_MLM_HEAD: 'This model has no masked-language-model head: choose a synthetic model or a checkpoint that ships one (e.g. a generator).',
  NO_MASK_TOKEN: 'This tokenizer has no [MASK] token: choose another model.',
  STORE_NEWER_VERSION: 'The session store was written by a newer DeBERTa Lab: update the app.',
  STORE_CORRUPT: 'The session store is damaged: restart the app to move it aside and start a fresh one.',
  STORE_UNUSABLE: 'Choose another store file (--store PATH or DEBERTA_LAB_STORE): the lab leaves this one untouched.',
  STORE_READONLY: 'The session store cannot be written (read-only file or folder): make it writable, or choose another store; nothing is saved until then.',
  STORE_BUSY: 'Another DeBERTa Lab is using the session store: close it and try again.',
  SESSION_NOT_FOUND: 'The session no longer exists: pick another one from the list.',
  IMPORT_INVALID: 'The file is not a DeBERTa Lab session (.dlab).',
  IMPORT_CHECKSUM: 'The file is damaged or was altered after export: export it again from the original.',
  IMPORT_FUTURE_FORMAT: 'The file was written by a newer DeBERTa Lab: update the app.',
  IMPORT_TOO_LARGE: 'The file is too large to import.',
  IMPORT_UNSAFE_PATH: 'The file contains unsafe paths and was refused.',
  CANCELLED: 'Cancelled. Run again when ready.',
  BUSY: 'Another computation with this id is running: wait for it or cancel it.',
  UNAUTHORIZED: 'Open the URL printed by `deberta-lab serve` again (it carries the access token).',
  FORBIDDEN: 'Open the lab from the URL printed by `deberta-lab serve`.',
  INTERNAL: 'An unexpected error: try again; if it persists, report it with the message above.',
}

export function adviceFor(error: Pick<ErrorData, 'code'>): string {
  return ADVICE[error.code] ?? 'Check the inputs and try again.'
}
