// Lint, and the import rules of STYLE.md made executable: each folder may import only its allowed layers.
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import vueParser from 'vue-eslint-parser'

const NODE_BUILTINS = '^(node:.*|fs|path|os|child_process|worker_threads|crypto|url|util|http|https|net|zlib|stream|module)(/.*)?$'

/** no-restricted-imports patterns for a layer */
function restrict(patterns) {
  return { 'no-restricted-imports': ['error', { patterns }] }
}
// A relative import that climbs into src/<folder> (package names such as echarts/core are not layers).
const layer = (folder, message) => ({ regex: `^(\\.\\./)+${folder}(/|$)`, message })

const rules = {
  common: restrict([
    { regex: '^(?!\\./)', message: 'src/common imports nothing: it is the pure contract.' },
  ]),
  core: restrict([
    { group: ['electron', 'electron/*'], message: 'core never imports electron.' },
    { group: ['better-sqlite3'], message: 'core never imports SQLite (that is src/store).' },
    layer('store', 'core never imports the store.'),
    layer('lab', 'core never imports the lab service.'),
    layer('main', 'core never imports main.'),
    layer('renderer', 'core never imports the renderer.'),
    layer('cli', 'core never imports the CLI.'),
  ]),
  store: restrict([
    { group: ['electron', 'electron/*'], message: 'store never imports electron.' },
    { group: ['@tensorflow/*'], message: 'store never imports tfjs.' },
    layer('core', 'store never imports core.'),
    layer('lab', 'store never imports the lab service.'),
    layer('main', 'store never imports main.'),
    layer('renderer', 'store never imports the renderer.'),
  ]),
  lab: restrict([
    { group: ['electron', 'electron/*'], message: 'lab is transport-agnostic: no electron.' },
    layer('main', 'lab never imports main.'),
    layer('renderer', 'lab never imports the renderer.'),
    layer('cli', 'lab never imports the CLI.'),
  ]),
  main: restrict([
    layer('renderer', 'main never imports the renderer.'),
    layer('core', 'main talks to core through the lab service.'),
    layer('store', 'main talks to the store through the lab service.'),
  ]),
  cli: restrict([
    { group: ['electron', 'electron/*'], message: 'the CLI runs under plain Node: no electron.' },
    { group: ['better-sqlite3', '@tensorflow/*'], message: 'the CLI is a host of the lab service: SQLite and tfjs are the lab\'s.' },
    layer('core', 'the CLI goes through the lab service (src/lab/service.ts, host-methods.ts), never core.'),
    layer('store', 'the CLI goes through the lab service (src/lab/service.ts, host-methods.ts), never the store.'),
    layer('renderer', 'the CLI never imports the renderer.'),
    layer('main', 'the CLI never imports main.'),
  ]),
  preload: restrict([
    { regex: '^(?!electron$|\\.\\./common/)', message: 'preload imports only electron (contextBridge, ipcRenderer) and common.' },
  ]),
  renderer: restrict([
    { regex: NODE_BUILTINS, message: 'the renderer has no Node: talk to the lab through LabApi.' },
    { group: ['electron', 'electron/*', 'better-sqlite3', '@tensorflow/*'], message: 'the renderer imports only common, vue and echarts.' },
    layer('core', 'the renderer never imports core.'),
    layer('store', 'the renderer never imports the store.'),
    layer('lab', 'the renderer never imports the lab.'),
    layer('main', 'the renderer never imports main.'),
    layer('cli', 'the renderer never imports the CLI.'),
    layer('preload', 'the renderer never imports the preload.'),
  ]),
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', 'test/fixtures/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/multi-word-component-names': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
    },
  },
  { files: ['src/common/**/*.ts'], rules: rules.common },
  { files: ['src/core/**/*.ts'], rules: rules.core },
  { files: ['src/store/**/*.ts'], rules: rules.store },
  { files: ['src/lab/**/*.ts'], rules: rules.lab },
  { files: ['src/main/**/*.ts'], rules: rules.main },
  { files: ['src/cli/**/*.ts'], rules: rules.cli },
  { files: ['src/preload/**/*.ts'], rules: rules.preload },
  { files: ['src/renderer/**/*.{ts,vue}'], rules: rules.renderer },
)
