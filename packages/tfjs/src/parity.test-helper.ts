// Test-only helpers (Node): the tiny fixture model and its reference cases. Kept out of
// `*.test.ts` so several test files share them; nothing outside tests imports this file.
import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { readSafetensors, toFloat32, validateConfig, type SparseViTConfig } from '@sparsevit/core';

export const tiny = (...parts: string[]) => fixturePath('sparsevit-tiny', ...parts);

export const tinyConfig: SparseViTConfig = validateConfig(JSON.parse(readFileSync(tiny('config.json'), 'utf8')));

export interface FixtureCase {
  name: string;
  image: string;
  width: number;
  height: number;
}

export const fixtureCases = JSON.parse(readFileSync(tiny('fixture.json'), 'utf8')).cases as FixtureCase[];

/** The reference tensors of `caseN.safetensors` as float32, by name. */
export async function referenceTensors(name: string): Promise<Map<string, { shape: readonly number[]; data: Float32Array }>> {
  const store = await readSafetensors(readFileSync(tiny(`${name}.safetensors`)));
  return new Map([...store.tensors].map(([key, t]) => [key, { shape: t.shape, data: toFloat32(t) }]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
