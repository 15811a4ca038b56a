// Types of scripts/build-wasm-kernels.mjs (imported by test/core/wasm-kernels.test.ts).
export const WAT_FILE: string
export const OUT_FILE: string
export interface WasmKernelBinaries {
  /** base64 of the module importing a shared memory */
  shared: string
  /** base64 of the module importing a plain memory */
  plain: string
  /** shared, with the GEMM's multiply-adds as f32x4.relaxed_madd */
  sharedFma: string
  /** plain, with the GEMM's multiply-adds as f32x4.relaxed_madd */
  plainFma: string
}
/** the text with the GEMM's multiply-adds as f32x4.relaxed_madd */
export function fusedText(text: string): string
export function compileWasmKernels(text?: string): Promise<WasmKernelBinaries>
export function renderBinaryModule(binaries: WasmKernelBinaries): string
