#!/usr/bin/env node
// The `litequant` command.
import { Command } from 'commander';

import { LitequantError } from '../errors.js';
import { summarize } from '../ir/summary.js';
import { capabilities } from '../native/index.js';
import { formatSummary } from './inspect.js';
import { readModelFile } from './model-file.js';

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
