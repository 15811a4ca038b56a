import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'

// One build for every runtime:
//   out/main/index.js   Electron main process        (src/main)
//   out/main/worker.js  tfjs compute worker thread   (src/lab/worker.ts)
//   out/main/split-peer.js  second thread of a split forward (src/core/split-peer.ts)
//   out/main/import-worker.js  .dlab reading thread  (src/store/dlab/import-worker.ts)
//   out/main/cli.js     `deberta-lab` CLI + browser-mode server (src/cli)
//   out/preload/index.cjs  contextBridge (CommonJS: sandboxed preloads cannot be ES modules)
//   out/renderer/       the Vue app, served by Electron (file://) and by browser mode (http://127.0.0.1)
const devStyleCsp: Plugin = {
  name: 'dev-csp',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          worker: resolve(__dirname, 'src/lab/worker.ts'),
          'split-peer': resolve(__dirname, 'src/core/split-peer.ts'),
          'import-worker': resolve(__dirname, 'src/store/dlab/import-worker.ts'),
          cli: resolve(__dirname, 'src/cli/index.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      outDir: 'out/renderer',
      minify: 'esbuild',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    // The dev server injects <style> tags; production keeps the strict style-src 'self'.
    plugins: [vue(), devStyleCsp],
  },
})
