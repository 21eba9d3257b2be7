// Converts the ImageNet-pretrained MobileNetV2 inside the npm package nsfwjs (MIT; TensorFlow.js
// layers format, weights quantised to 8 bits) into plain float32 tensors with their Keras names
// and shapes, for dogsearch-import-keras (docs/TRAINING.md, "Pretrained start"), and records
// what a check needs: a few fixed inputs and TensorFlow.js' own pooled trunk features for them
// (out_relu, averaged over the feature map), computed from the same quantised weights.
// Run on demand (never at build time):
//   npm ci --prefix tools/pretrained && node tools/pretrained/convert_nsfwjs.mjs OUT_DIR
// Writes OUT_DIR/keras_weights.{json,txt,bin} (provenance + index, plain index, float32 values),
// OUT_DIR/keras_source.txt (provenance, one line), OUT_DIR/check_inputs.bin (float32 NHWC, [-1, 1]) and
// OUT_DIR/check_features.bin (float32 [n, 1280]).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

const require = createRequire(import.meta.url);
const out = process.argv[2];
if (!out) {
  console.error('usage: node convert_nsfwjs.mjs OUT_DIR');
  process.exit(1);
}
// nsfwjs' exports map hides package.json; it is installed beside this script.
const pkgDir = join(dirname(new URL(import.meta.url).pathname), 'node_modules', 'nsfwjs');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const modelFile = join(pkgDir, 'dist/models/mobilenet_v2/model.min.js');
const shardFile = join(pkgDir, 'dist/models/mobilenet_v2/group1-shard1of1.min.js');
const { modelTopology, weightsManifest } = require(modelFile);
const bytes = Buffer.from(require(shardFile), 'base64');
const sha256 = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');

// Dequantise: value = min + scale * q (uint8), tensor by tensor in manifest order.
const specs = weightsManifest.flatMap((group) => group.weights);
const tensors = [];
const chunks = [];
let at = 0;
let offset = 0;
for (const w of specs) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization?.dtype !== 'uint8') throw new Error(`${w.name}: not uint8-quantised`);
  const f = new Float32Array(n);
  for (let i = 0; i < n; ++i) f[i] = w.quantization.min + w.quantization.scale * bytes[at + i];
  at += n;
  tensors.push({ name: w.name, shape: w.shape, offset });
  chunks.push(Buffer.from(f.buffer));
  offset += n;
}
if (at !== bytes.length) throw new Error(`weights: ${bytes.length} bytes, manifest needs ${at}`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'keras_weights.bin'), Buffer.concat(chunks));
const source = {
  package: `${pkg.name}@${pkg.version}`,
  license: pkg.license,
  files: { [modelFile.slice(pkgDir.length + 1)]: sha256(modelFile),
           [shardFile.slice(pkgDir.length + 1)]: sha256(shardFile) },
  note: 'Keras MobileNetV2 (width 1.0, 224 px) fine-tuned by nsfwjs; uint8-dequantised',
};
writeFileSync(join(out, 'keras_weights.json'), JSON.stringify({ source, tensors }, null, 1));
writeFileSync(join(out, 'keras_source.txt'),
              `${source.package} (${source.license} licence): ${source.note}; ` +
              Object.entries(source.files).map(([f, h]) => `${f} sha256 ${h}`).join(', ') + '\n');
// The same index as plain lines for the C++ importer: "<name> <offset> <dim>...".
writeFileSync(join(out, 'keras_weights.txt'),
              tensors.map((t) => [t.name, t.offset, ...t.shape].join(' ')).join('\n') + '\n');

// The check: TensorFlow.js runs the same weights on fixed inputs (smooth patterns in [-1, 1]).
const model = await tfl.loadLayersModel(tf.io.fromMemory({
  modelTopology, weightSpecs: specs, weightData: new Uint8Array(bytes).buffer,
}));
const trunk = tfl.model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output });
const n = 2, side = 224;
const input = new Float32Array(n * side * side * 3);
for (let b = 0; b < n; ++b) {
  for (let y = 0; y < side; ++y) {
    for (let x = 0; x < side; ++x) {
      for (let c = 0; c < 3; ++c) {
        input[((b * side + y) * side + x) * 3 + c] =
            Math.sin((x * (c + 1) + y * (b + 2)) / 17) * Math.cos((x - y * c) / 29 + b);
      }
    }
  }
}
const features = tf.tidy(() => tf.mean(trunk.predict(tf.tensor4d(input, [n, side, side, 3])), [1, 2]));
writeFileSync(join(out, 'check_inputs.bin'), Buffer.from(input.buffer));
writeFileSync(join(out, 'check_features.bin'), Buffer.from((await features.data()).buffer));
console.log(`${source.package} (${source.license}): ${tensors.length} tensors, ${offset} values ` +
            `-> ${out}; check features for ${n} inputs of ${side} px`);
