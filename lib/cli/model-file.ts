// Reading a model file for the CLI, with errors that name the file.
import { readFileSync } from 'node:fs';

import { InvalidArgumentError, ModelFormatError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { readModel } from '../tflite/read.js';

export function readModelFile(path: string): { bytes: Uint8Array; graph: Graph } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InvalidArgumentError(`Cannot read model file '${path}': ${reason}`, { cause: error });
  }
  try {
    return { bytes, graph: readModel(bytes) };
  } catch (error) {
    if (error instanceof ModelFormatError) {
      throw new ModelFormatError(`${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
