import type { UserConfig } from 'vitest/config';
export declare function sparsevitVitestConfig(overrides?: Record<string, unknown>): UserConfig;
