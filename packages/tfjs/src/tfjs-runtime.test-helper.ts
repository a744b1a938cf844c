// Test-only: the tfjs-core instance this package resolves (the one loadModel uses by default).
export * as tf from '@tensorflow/tfjs-core';
