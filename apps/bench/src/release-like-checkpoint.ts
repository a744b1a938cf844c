import type { WeightTensor } from '@sparsevit/core';
import { writeCheckpoint, type PV } from '@sparsevit/core/testing';

/**
 * A checkpoint laid out like the one the authors release: `torch.save` of `{'model',
 * 'optimizer' (AdamW: exp_avg and exp_avg_sq for every parameter), 'epoch', 'scaler',
 * 'args': argparse.Namespace}` with storages tagged `cuda:0`. Three copies of the weights
 * (~600 MB for the base model), of which a reader must load only the first.
 */
export function releaseLikeCheckpoint(model: Map<string, WeightTensor>): Uint8Array {
  const storages = new Map<string, Uint8Array>();
  const tensor = (t: WeightTensor): PV => {
    const key = String(storages.size);
    storages.set(key, t.data);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    return { tensor: { storage: { key, type: t.dtype === 'I64' ? 'LongStorage' : 'FloatStorage', numel }, size: t.shape } };
  };
  const modelEntries: Array<[string, PV]> = [...model].map(([name, t]) => [name, tensor(t)]);
  const params = [...model.values()].filter((t) => t.dtype === 'F32');
  const state: Array<[PV, PV]> = params.map((t, i) => [
    i,
    { dict: [['step', 40000], ['exp_avg', tensor(t)], ['exp_avg_sq', tensor(t)]] },
  ]);
  const value: PV = {
    dict: [
      ['model', { ordered: modelEntries }],
      [
        'optimizer',
        {
          dict: [
            ['state', { dict: state }],
            ['param_groups', [{ dict: [['lr', 1e-4], ['betas', { tuple: [0.9, 0.999] }], ['eps', 1e-8], ['weight_decay', 0.05], ['amsgrad', false], ['params', params.map((_, i) => i)]] }]],
          ],
        },
      ],
      ['epoch', 199],
      ['scaler', { dict: [['scale', 65536.0], ['growth_factor', 2.0], ['backoff_factor', 0.5], ['growth_interval', 2000], ['_growth_tracker', 0]] }],
      ['args', { namespace: { batch_size: 4, epochs: 200, lr: 1e-4, data_path: '/data/cat-net.json', output_dir: './output_dir', seed: 42, if_predict_label: false } }],
    ],
  };
  return writeCheckpoint({ pickle: value, storages, prefix: 'checkpoint' });
}
