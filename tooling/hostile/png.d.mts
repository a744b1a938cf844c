/** Types of png.mjs. */
export function uniformPng(width: number, height: number, options?: { channels?: 1 | 3; value?: number }): Buffer;
export function headerOnlyPng(width: number, height: number): Buffer;
