import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { APP_VERSION } from '../../src/common/version'
import { LabError, fromErrorData, toErrorData } from '../../src/common/errors'

describe('common', () => {
  it('APP_VERSION follows package.json', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(APP_VERSION).toBe(pkg.version)
  })

  it('errors cross boundaries as data and come back typed', () => {
    const error = new LabError('CHECKPOINT_SHAPE', 'bad shape', { key: 'k' })
    const data = toErrorData(error)
    expect(data).toEqual({ code: 'CHECKPOINT_SHAPE', message: 'bad shape', details: { key: 'k' } })
    const back = fromErrorData(data)
    expect(back).toBeInstanceOf(LabError)
    expect(back.code).toBe('CHECKPOINT_SHAPE')
    expect(toErrorData(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' })
    expect(toErrorData({ code: 'NOT_A_CODE', message: 'x' }).code).toBe('INTERNAL')
  })
})
