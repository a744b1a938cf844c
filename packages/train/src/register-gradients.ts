// tfjs-core registers its gradient functions only from `dist/register_all_gradients`, an ES
// module whose extensionless imports Node cannot load; the `@tensorflow/tfjs` bundle registers
// the same functions (into tfjs's global registry, shared with the tfjs-core instance the caller
// passes). Without them `tf.variableGrads` fails with "gradient function not found for Mean".
import '@tensorflow/tfjs';
