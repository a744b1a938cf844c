import type { SparseViTConfig } from '../config/sparsevit-config';

export interface ExpectedTensor {
  shape: number[];
  /** Float parameters accept any float dtype; BatchNorm's step counter is an integer. */
  kind: 'float' | 'int';
  /** False for tensors the reference forward pass never reads (kept for key-for-key mapping). */
  used: boolean;
}

/**
 * Every key of the reference `SparseViT(...).state_dict()` for a config, with its shape, derived
 * from the module tree of `SparseViT.py` (and checked against the published key list in tests).
 */
export function expectedStateDict(config: SparseViTConfig): Map<string, ExpectedTensor> {
  const keys = new Map<string, ExpectedTensor>();
  const f = (name: string, shape: number[], used = true) => keys.set(name, { shape, kind: 'float', used });
  const conv = (name: string, out: number, inPerGroup: number, k: number, used = true) => {
    f(`${name}.weight`, [out, inPerGroup, k, k], used);
    f(`${name}.bias`, [out], used);
  };
  const norm = (name: string, c: number, used = true) => {
    f(`${name}.weight`, [c], used);
    f(`${name}.bias`, [c], used);
  };
  const batchNorm = (name: string, c: number) => {
    norm(name, c);
    f(`${name}.running_mean`, [c]);
    f(`${name}.running_var`, [c]);
    keys.set(`${name}.num_batches_tracked`, { shape: [], kind: 'int', used: false });
  };
  const lin = (name: string, out: number, inp: number, bias = true) => {
    f(`${name}.weight`, [out, inp]);
    if (bias) f(`${name}.bias`, [out]);
  };
  const e = 'encoder_net';
  const dims = config.embed_dim;
  const hidden = dims.map((c) => Math.floor(c * config.mlp_ratio));
  const inChannels = [3, dims[0], dims[1], dims[2]];
  const patch = [4, 2, 2, 2];

  for (let s = 0; s < 4; s++) {
    norm(`${e}.patch_embed${s + 1}.norm`, dims[s]);
    conv(`${e}.patch_embed${s + 1}.proj`, dims[s], inChannels[s], patch[s]);
  }
  for (let s = 0; s < 2; s++) {
    const c = dims[s];
    for (let i = 0; i < config.depth[s]; i++) {
      const b = `${e}.blocks${s + 1}.${i}`;
      conv(`${b}.pos_embed`, c, 1, 3);
      batchNorm(`${b}.norm1`, c);
      conv(`${b}.conv1`, c, c, 1);
      conv(`${b}.conv2`, c, c, 1);
      conv(`${b}.attn`, c, 1, 5);
      batchNorm(`${b}.norm2`, c);
      conv(`${b}.mlp.fc1`, hidden[s], c, 1);
      conv(`${b}.mlp.fc2`, c, hidden[s], 1);
    }
    // The backbone builds norm1/norm2 after the conv stages but never applies them.
    norm(`${e}.norm${s + 1}`, c, false);
  }
  for (let s = 2; s < 4; s++) {
    const c = dims[s];
    for (let i = 0; i < config.depth[s]; i++) {
      const b = `${e}.blocks${s + 1}.${i}`;
      f(`${b}.gamma_1`, [c]);
      f(`${b}.gamma_2`, [c]);
      conv(`${b}.pos_embed`, c, 1, 3, false); // built by SABlock, never called in its forward
      norm(`${b}.norm1`, c);
      lin(`${b}.attn.qkv`, 3 * c, c, config.qkv_bias);
      lin(`${b}.attn.proj`, c, c);
      norm(`${b}.norm2`, c);
      lin(`${b}.mlp.fc1`, hidden[s], c);
      conv(`${b}.mlp.dwconv.dwconv`, hidden[s], 1, 3);
      lin(`${b}.mlp.fc2`, c, hidden[s]);
    }
    norm(`${e}.norm${s + 1}`, c);
  }
  for (let i = 1; i <= 6; i++) f(`lmu.gamma${i}`, [dims[3]]);
  norm('lmu.norm', dims[3]);
  for (let i = 1; i <= 4; i++) conv(`lmu.conv_layer${i}`, dims[3], dims[2], 1);
  conv('lmu.conv_last', 1, dims[3], 1);
  return keys;
}
