// The import rules of STYLE.md are lint rules; this proves they bite, on code written into each layer.
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint()

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('layering (eslint no-restricted-imports per folder)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['src/renderer/bad.ts', "import { readFileSync } from 'node:fs'\nexport const x = readFileSync\n", true],
    ['src/renderer/bad.ts', "import { ipcRenderer } from 'electron'\nexport const x = ipcRenderer\n", true],
    ['src/renderer/bad.ts', "import { initBackend } from '../core/backend'\nexport const x = initBackend\n", true],
    ['src/renderer/ok.ts', "import { LAB_API_METHODS } from '../common/api'\nexport const x = LAB_API_METHODS\n", false],
    ['src/core/bad.ts', "import Database from 'better-sqlite3'\nexport const x = Database\n", true],
    ['src/core/bad.ts', "import { app } from 'electron'\nexport const x = app\n", true],
    ['src/core/ok.ts', "import * as tf from '@tensorflow/tfjs-core'\nexport const x = tf\n", false],
    ['src/store/bad.ts', "import * as tf from '@tensorflow/tfjs-core'\nexport const x = tf\n", true],
    ['src/lab/bad.ts', "import { app } from 'electron'\nexport const x = app\n", true],
    ['src/common/bad.ts', "import { z } from 'zod'\nexport const x = z\n", true],
    ['src/preload/bad.ts', "import { readFileSync } from 'node:fs'\nexport const x = readFileSync\n", true],
    ['src/cli/commands/bad.ts', "import { initBackend } from '../../core/backend'\nexport const x = initBackend\n", true],
    ['src/cli/commands/bad.ts', "import { openStore } from '../../store'\nexport const x = openStore\n", true],
    ['src/cli/bad.ts', "import { openStoreSafely } from '../store/safe-open'\nexport const x = openStoreSafely\n", true],
    ['src/cli/server/bad.ts', "import Database from 'better-sqlite3'\nexport const x = Database\n", true],
    ['src/cli/commands/ok.ts', "import { createLabService } from '../../lab/service'\nimport { LabError } from '../../common/errors'\nexport const x = [createLabService, LabError]\n", false],
  ]
  for (const [file, code, restricted] of cases) {
    it(`${restricted ? 'refuses' : 'allows'} ${code.split('\n')[0]} in ${file}`, async () => {
      const messages = await restrictedImports(file, code)
      expect(messages.length > 0).toBe(restricted)
    })
  }
})
