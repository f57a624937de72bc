import { readFile, writeFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { requireCircuitArch } from './arch.js';
import { parseJsonModel, networkMetadata, networkTensors, networkToJson } from './json-format.js';
import { parseSafetensors, writeSafetensors } from './safetensors.js';
import { buildNetwork } from './tensors.js';
import type { Network } from './types.js';

/**
 * Parse model bytes, JSON model format or safetensors (told apart by content, not by file name). The name only
 * decides which format's complaint a file that is neither gets: a broken `.safetensors` file is reported as
 * such, not as invalid JSON.
 */
export function parseModel(bytes: Uint8Array, file?: string): Network {
  const safetensors =
    looksLikeSafetensors(bytes) || (/\.safetensors$/i.test(file ?? '') && !looksLikeJsonObject(bytes));
  const { tensors, metadata } = safetensors
    ? parseSafetensors(bytes, file)
    : parseJsonModel(new TextDecoder().decode(bytes), file);
  return buildNetwork(tensors, metadata, file);
}

/** Load and validate a model file (`.json` or `.safetensors`). */
export async function loadModel(path: string): Promise<Network> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  return parseModel(bytes, path);
}

/** Load a model the circuit is to realise: any arch but the FQ-BMRU is refused with what to do (arch.ts). */
export async function loadCircuitModel(path: string): Promise<Network> {
  const net = await loadModel(path);
  requireCircuitArch(net, path);
  return net;
}

/** Write a network as JSON (path ends in .json) or safetensors (anything else). */
export async function saveModel(net: Network, path: string, description?: string): Promise<void> {
  if (path.endsWith('.json')) await writeFile(path, networkToJson(net, description));
  else await writeFile(path, writeSafetensors(networkTensors(net), networkMetadata(net), 'F64'));
}

/** The JSON model format: the first character that is not white space opens an object. */
function looksLikeJsonObject(bytes: Uint8Array): boolean {
  return /^\s*\{/.test(new TextDecoder().decode(bytes.subarray(0, 64)));
}

/** safetensors: an 8-byte length that fits the file, followed by a JSON object. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b /* '{' */) return false;
  const len = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return len > 0n && len <= BigInt(bytes.length - 8);
}
