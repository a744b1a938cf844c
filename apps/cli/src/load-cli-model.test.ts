import { NODE_DEVICES } from '@sparsevit/node';
import { describe, expect, it } from 'vitest';
import { BACKEND_DEVICES, parseBackendDevice } from './load-cli-model';

describe('--backend and --device', () => {
  it('offer exactly the devices @sparsevit/node runs on for the onnx backend', () => {
    expect([...BACKEND_DEVICES.onnx].sort()).toEqual([...NODE_DEVICES].sort());
  });

  it('default to the backend’s first device and refuse another backend’s', () => {
    expect(parseBackendDevice('detect', undefined, undefined)).toEqual({ backend: 'onnx', device: 'cpu' });
    expect(parseBackendDevice('detect', 'tfjs', undefined)).toEqual({ backend: 'tfjs', device: 'wasm' });
    expect(() => parseBackendDevice('detect', 'tfjs', 'cuda')).toThrow(/--device for --backend tfjs must be one of wasm, cpu/);
    expect(() => parseBackendDevice('detect', 'torch', undefined)).toThrow(/--backend must be one of onnx, tfjs/);
  });
});
