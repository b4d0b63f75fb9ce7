// Reading and loading a model file for the CLI, with errors that name the file.
import { readFileSync } from 'node:fs';

import { InvalidArgumentError, ModelFormatError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { loadModel, type LoadModelOptions, type Session } from '../runtime/session.js';
import { readModel } from '../tflite/read.js';

/** The bytes of a model file; a missing or unreadable file is an InvalidArgumentError. */
export function readModelBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InvalidArgumentError(`Cannot read model file '${path}': ${reason}`, { cause: error });
  }
}

/** The same error with the file's path in front (model format and unsupported-op errors). */
export function nameModelError(path: string, error: unknown): unknown {
  if (error instanceof ModelFormatError) return new ModelFormatError(`${path}: ${error.message}`, { cause: error });
  if (error instanceof InvalidArgumentError) return new InvalidArgumentError(`${path}: ${error.message}`, { cause: error });
  return error;
}

export function readModelFile(path: string): { bytes: Uint8Array; graph: Graph } {
  const bytes = readModelBytes(path);
  try {
    return { bytes, graph: readModel(bytes) };
  } catch (error) {
    throw error instanceof ModelFormatError ? nameModelError(path, error) : error;
  }
}

/** Reads, parses and compiles a model file (an op the runtime lacks fails here, naming the file). */
export async function loadModelFile(path: string, options: LoadModelOptions): Promise<{ session: Session; bytes: Uint8Array }> {
  const { bytes, graph } = readModelFile(path);
  try {
    return { session: await loadModel(graph, options), bytes };
  } catch (error) {
    throw nameModelError(path, error);
  }
}
