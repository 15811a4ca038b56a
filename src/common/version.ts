// Kept in step with package.json by a test (test/common/version.test.ts).
export const APP_VERSION = '0.1.0'
export const APP_NAME = 'DeBERTa Lab'
