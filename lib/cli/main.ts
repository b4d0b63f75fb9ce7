#!/usr/bin/env node
// The `litequant` command.
import { Command } from 'commander';

import { LitequantError } from '../errors.js';
import { summarize } from '../ir/summary.js';
import { capabilities } from '../native/index.js';
import { BENCH_HELP, benchCommand, type BenchCommandOptions } from './bench.js';
import { CONVERT_HELP, convertCommand, type ConvertCommandOptions } from './convert.js';
import { EXAMPLE_HELP, exampleCommand, type ExampleCommandOptions } from './example.js';
import { formatSummary } from './inspect.js';
import { readModelFile } from './model-file.js';
import { QUANTIZE_HELP, quantizeCommand, type QuantizeCommandOptions } from './quantize.js';
import { RUN_HELP, runCommand, type RunCommandOptions } from './run.js';

function printCapabilities(json: boolean): void {
  const caps = capabilities();
  if (json) {
    process.stdout.write(`${JSON.stringify(caps, null, 2)}\n`);
    return;
  }
  const flags = Object.entries(caps.features)
    .filter(([, on]) => on)
    .map(([name]) => name);
  process.stdout.write(
    [
      `cpu        ${caps.cpu}`,
      `features   ${flags.join(' ') || '(none)'}`,
      `supported  ${caps.isa.join(' ')}`,
      `built      ${caps.built.join(' ')}`,
      `selected   ${caps.selected}${caps.forced ? ` (forced by LITEQUANT_ISA=${caps.forced})` : ''}`,
      `binary     ${caps.binary}`,
      '',
    ].join('\n'),
  );
}

const program = new Command()
  .name('litequant')
  .description('Post-training quantization of TensorFlow Lite models')
  .showHelpAfterError();

program
  .command('capabilities')
  .description('show the detected CPU features and the selected kernel path')
  .option('--json', 'print machine-readable JSON')
  .action((opts: { json?: boolean }) => printCapabilities(opts.json === true));

program
  .command('inspect')
  .description('show ops, inputs/outputs, signatures, tensors with quantization, and sizes')
  .argument('<model>', 'a .tflite file')
  .option('--json', 'print machine-readable JSON')
  .action((model: string, opts: { json?: boolean }) => {
    const { bytes, graph } = readModelFile(model);
    const summary = summarize(graph);
    process.stdout.write(
      opts.json === true ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(model, bytes.length, summary),
    );
  });

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

program
  .command('quantize')
  .description('quantize a float model: int8, int16x8 (calibrated on .npy data), dynamic, float16 or weight-only')
  .argument('[model]', 'the float .tflite file, or a TensorFlow.js model.json (converted first)')
  .option('-o, --output <file>', 'where the quantized .tflite goes (written atomically)')
  .option('--mode <mode>', 'int8 | int16x8 | dynamic | float16 | weight-only')
  .option('--calibration <files>', 'int8/int16x8: .npy files of representative inputs, one per model input (comma-separated, or repeated)', collect)
  .option('--input-scale <S>', 'calibration values become raw*S+O for float inputs; one value, or one per input')
  .option('--input-offset <O>', 'see --input-scale')
  .option('--method <method>', 'calibration: minmax (default) | ema | percentile | entropy | mse')
  .option('--samples <N>', 'calibrate on the first N samples')
  .option('--per-tensor', 'one weight scale per tensor instead of per channel')
  .option('--io <type>', 'int8/int16x8 model input/output type: float (default) | int8 | uint8 | int16')
  .option('--exclude <ops>', 'keep ops in float: op names, operator indices, /regex/ on output tensor names (comma-separated, or repeated)', collect)
  .option('--strict', 'an op with no quantized kernel is an error instead of staying float')
  .option('--min-weight-elements <N>', 'dynamic/weight-only: smaller weights stay float (default 1024)')
  .option('--no-progress', 'no progress bar (it only shows when stdout and stderr are terminals)')
  .option('--json', 'print { input, output, report, diagnostics } as JSON')
  .addHelpText('after', QUANTIZE_HELP)
  .option('--example', 'quantize the example model litequant ships (a digits CNN), and show size, accuracy and speed before/after: the default without a model')
  .addHelpText('after', EXAMPLE_HELP)
  .action(async (model: string | undefined, opts: QuantizeCommandOptions & ExampleCommandOptions) => {
    if (model === undefined || opts.example === true) await exampleCommand(model, opts);
    else await quantizeCommand(model, opts);
  });

program
  .command('run')
  .description('run the model on every sample (the first axis) of the .npy inputs; one .npy per output')
  .argument('<model>', 'a .tflite file')
  .requiredOption('--input <files>', '.npy files, one per model input (comma-separated, or --input repeated)', collect)
  .requiredOption('-o, --output <files>', '.npy paths, one per model output (comma-separated; one path: out.npy, out_1.npy...)')
  .option('--input-scale <S>', 'input values become raw*S+O (then quantized for a quantized input fed data of another dtype); one value, or one per input')
  .option('--input-offset <O>', 'see --input-scale')
  .option('--threads <N>', 'threads per native call, 0 = one per core', '1')
  .option('--batch <B>', 'samples per run (needs a dynamic batch: shape signature [-1, ...])', '1')
  .option('--allow-nonfinite', 'let NaN/Infinity input values through instead of failing')
  .option('--no-progress', 'no progress bar (it only shows when stdout and stderr are terminals)')
  .option('--json', 'print a machine-readable summary')
  .addHelpText('after', RUN_HELP)
  .action((model: string, opts: RunCommandOptions) => runCommand(model, opts));

program
  .command('convert')
  .description('convert a TensorFlow.js Layers model (model.json + weight files) to a float .tflite')
  .argument('<model>', 'model.json (or its directory)')
  .requiredOption('-o, --output <file>', 'where the .tflite goes (written atomically)')
  .option('--json', 'print a machine-readable summary')
  .addHelpText('after', CONVERT_HELP)
  .action((model: string, opts: ConvertCommandOptions) => convertCommand(model, opts));

program
  .command('bench')
  .description('time load, first run and latency (median, p90), with a per-op breakdown')
  .argument('<model>', 'a .tflite file')
  .option('--threads <N>', 'threads per native call, 0 = one per core', '1')
  .option('--runs <R>', 'timed runs (and as many profiled runs)', '50')
  .option('--warmup <W>', 'untimed runs before timing', '5')
  .option('--input <files>', 'time on sample 0 of these .npy files (one per model input) instead of random data', collect)
  .option('--input-scale <S>', 'as for run')
  .option('--input-offset <O>', 'as for run')
  .option('--allow-nonfinite', 'as for run')
  .option('--json', 'print machine-readable JSON')
  .addHelpText('after', BENCH_HELP)
  .action((model: string, opts: BenchCommandOptions) => benchCommand(model, opts));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof LitequantError) {
    process.stderr.write(`litequant: ${error.message} [${error.code}]\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
