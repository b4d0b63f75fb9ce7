// `litequant inspect MODEL.tflite [--json]`: ops, inputs/outputs, signatures, tensors, sizes.
import type { ModelSummary, QuantizationSummary, TensorSummary } from '../ir/summary.js';

function formatQuant(q: QuantizationSummary | null): string {
  if (q === null) return '';
  if (q.axis === null) return `scale ${q.scale[0]?.toPrecision(6)} zp ${q.zeroPoint[0]}`;
  const scales = q.scale;
  const lo = Math.min(...scales);
  const hi = Math.max(...scales);
  return `per-axis ${q.axis}: ${scales.length} scales ${lo.toPrecision(3)}..${hi.toPrecision(3)}`;
}

function formatTensor(t: TensorSummary): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatSummary(file: string, fileBytes: number, s: ModelSummary): string {
  const out: string[] = [];
  out.push(`${file}: ${formatBytes(fileBytes)}, schema version ${s.version}${s.description ? `, "${s.description}"` : ''}`);
  out.push('');
  out.push('Operators');
  out.push(...table([['  op', 'version', 'count'], ...s.ops.map((o) => [`  ${o.op}`, String(o.version), String(o.count)])]));
  for (const sg of s.subgraphs) {
    out.push('');
    out.push(`Subgraph ${sg.index}${sg.name ? ` "${sg.name}"` : ''}: ${sg.operators} operators, ${sg.tensors.length} tensors`);
    const io = (label: string, list: readonly TensorSummary[]) =>
      list.map((t) => [`  ${label}`, String(t.index), formatTensor(t), formatQuant(t.quantization) || '-', t.name]);
    out.push(...table([...io('input', sg.inputs), ...io('output', sg.outputs)]));
  }
  if (s.signatures.length > 0) {
    out.push('');
    out.push('Signatures');
    for (const sig of s.signatures) {
      out.push(`  ${sig.key} (subgraph ${sig.subgraph}): (${sig.inputs.join(', ')}) -> (${sig.outputs.join(', ')})`);
    }
  }
  out.push('');
  out.push(`Parameters: ${s.parameters.count.toLocaleString('en-US')} in ${formatBytes(s.parameters.bytes)}`);
  out.push(
    ...table(
      Object.entries(s.parameters.byType).map(([dtype, p]) => [`  ${dtype}`, p.count.toLocaleString('en-US'), formatBytes(p.bytes)]),
    ),
  );
  for (const sg of s.subgraphs) {
    out.push('');
    out.push(`Tensors of subgraph ${sg.index}`);
    out.push(
      ...table([
        ['  #', 'type', 'kind', 'bytes', 'quantization', 'name'],
        ...sg.tensors.map((t) => [
          `  ${t.index}`,
          formatTensor(t),
          t.variable ? 'variable' : t.constant ? 'constant' : '-',
          String(t.bytes),
          formatQuant(t.quantization) || '-',
          t.name,
        ]),
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}
