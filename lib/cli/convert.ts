// `litequant convert model.json -o model.tflite [--json]`: a TensorFlow.js Layers model (the
// model.json that tf.LayersModel.save('file://dir') writes, with its weight shards beside it) to a
// float32 .tflite (lib/tfjs/convert.ts). The output is written atomically (a temporary file in
// its directory renamed into place): an error leaves no partial file and keeps a previous one.
// Also readModelArgument(): what `quantize` uses so that it takes a model.json as well.
import { InvalidArgumentError } from '../errors.js';
import { openAtomic } from '../fs-atomic.js';
import type { Graph } from '../ir/graph.js';
import { summarize, type TensorSummary } from '../ir/summary.js';
import { fromTfjs } from '../tfjs/convert.js';
import { readModel } from '../tflite/read.js';
import { readModelFile } from './model-file.js';

export interface ConvertCommandOptions {
  readonly output?: string;
  readonly json?: boolean;
}

export const CONVERT_HELP = `
The input is a TensorFlow.js Layers model: model.json (or its directory) with the weight files it
lists beside it. Converted layers: Dense, Conv2D, DepthwiseConv2D, SeparableConv2D,
BatchNormalization (folded into the conv/dense before it), Activation / ReLU / Softmax (relu and
relu6 fused), MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape,
ZeroPadding2D, Dropout (removed), Add, Multiply, Concatenate, Embedding (GATHER), LSTM
(UNIDIRECTIONAL_SEQUENCE_LSTM; sigmoid gates). A layer that does not convert is an error that
lists every such layer. The batch dimension becomes dynamic (shape signature -1).

Example:
  litequant convert web_model/model.json -o model.tflite
  litequant quantize web_model/model.json -o model_int8.tflite --mode int8 --calibration data.npy
`;

const isTfjsPath = (path: string): boolean => /\.json$/i.test(path);

/**
 * A model argument of the CLI: a .tflite file, or a TensorFlow.js model.json converted on the
 * fly. Errors name the file (fromTfjs's messages start with the path).
 */
export async function readModelArgument(path: string): Promise<{ bytes: Uint8Array; graph: Graph; converted: boolean }> {
  if (!isTfjsPath(path)) return { ...readModelFile(path), converted: false };
  const bytes = await fromTfjs(path);
  return { bytes, graph: readModel(bytes), converted: true };
}

function describe(t: TensorSummary): string {
  return `${t.name} ${t.dtype.toLowerCase()}[${t.shape.join(', ')}]`;
}

export async function convertCommand(modelPath: string, opts: ConvertCommandOptions): Promise<void> {
  if (opts.output === undefined || opts.output.trim() === '') {
    throw new InvalidArgumentError(`Expected -o OUT.tflite (where the converted model goes) but received ${opts.output === undefined ? 'none' : 'an empty path'}`);
  }
  // Open the output first: an unwritable path fails before any work.
  const file = openAtomic(opts.output);
  try {
    const started = performance.now();
    const bytes = await fromTfjs(modelPath);
    const elapsedMs = performance.now() - started;
    file.write(bytes);
    file.commit();
    const summary = summarize(readModel(bytes));
    const main = summary.subgraphs[0]!;
    if (opts.json === true) {
      const io = (t: TensorSummary) => ({ name: t.name, dtype: t.dtype, shape: t.shape });
      const result = {
        input: modelPath,
        output: opts.output,
        bytes: bytes.byteLength,
        parameters: summary.parameters.count,
        ops: summary.ops.map((o) => ({ op: o.op, count: o.count })),
        inputs: main.inputs.map(io),
        outputs: main.outputs.map(io),
        elapsedMs,
      };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const ops = summary.ops.map((o) => `${o.op}${o.count > 1 ? ` x${o.count}` : ''}`).join(', ');
    process.stdout.write(
      [
        `${modelPath} -> ${opts.output}: ${bytes.byteLength.toLocaleString('en-US')} bytes, ${summary.parameters.count.toLocaleString('en-US')} parameters, ${main.operators} ops in ${(elapsedMs / 1000).toFixed(2)} s`,
        `  ops      ${ops}`,
        ...main.inputs.map((t) => `  input    ${describe(t)}`),
        ...main.outputs.map((t) => `  output   ${describe(t)}`),
        '',
      ].join('\n'),
    );
  } catch (error) {
    file.abort();
    throw error;
  }
}
