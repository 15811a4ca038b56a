// Runs once before the unit tests: probes the tfjs backends, prints which ones the run covers, and hands the
// result to the test files (test/core/helpers.ts reads it with inject('backendProbes')).
import type { TestProject } from 'vitest/node'
import { describeProbes, probeBackends } from './core/backends'

export default async function setup(project: TestProject): Promise<void> {
  const probes = await probeBackends()
  for (const line of describeProbes(probes)) console.log(line)
  project.provide('backendProbes', probes)
}
