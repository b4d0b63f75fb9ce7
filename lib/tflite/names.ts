// Names of enum values, for messages and printing.
import { BuiltinOperator, TensorType } from './schema.js';

function reverse(e: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(e)) if (!names.has(value)) names.set(value, name);
  return names;
}

const tensorTypeNames = reverse(TensorType);
const builtinOperatorNames = reverse(BuiltinOperator);

/** 'INT8' for TensorType.INT8; 'TensorType(99)' for a value this schema does not know. */
export function tensorTypeName(type: number): string {
  return tensorTypeNames.get(type) ?? `TensorType(${type})`;
}

/** 'CONV_2D' for BuiltinOperator.CONV_2D; 'BuiltinOperator(999)' for an unknown value. */
export function builtinOperatorName(code: number): string {
  return builtinOperatorNames.get(code) ?? `BuiltinOperator(${code})`;
}
