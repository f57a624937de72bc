/** Files as PyTorch users write them: half-precision tensors, and `save_file(state_dict)` without metadata. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { bfloat16Bits, half } from '../../src/model/safetensors.js';
import {
  networkMetadata,
  networkTensors,
  parseModel,
  randomNetwork,
  runNetwork,
  randomInputs,
  writeSafetensors,
} from '../../src/model/index.js';

describe('half-precision tensors', () => {
  it('decodes binary16 bit patterns exactly (values from the IEEE-754 tables)', () => {
    expect(half(0x3c00)).toBe(1);
    expect(half(0xc000)).toBe(-2);
    expect(half(0x7bff)).toBe(65504); // largest finite
    expect(half(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(half(0x0400)).toBe(2 ** -14); // smallest normal
    expect(half(0x3555)).toBe(0.333251953125);
    expect(half(0x7c00)).toBe(Infinity);
    expect(Object.is(half(0x8000), -0)).toBe(true);
    expect(half(0x7e00)).toBeNaN();
  });

  it('rounds to the nearest bfloat16 and reads it back (bfloat16 is the top half of a float32)', () => {
    expect(bfloat16Bits(1)).toBe(0x3f80);
    expect(bfloat16Bits(3.140625)).toBe(0x4049);
    expect(bfloat16Bits(Math.PI)).toBe(0x4049); // 3.14159... rounds to 3.140625
    // Exactly halfway between two bfloat16 values (7 fraction bits): ties go to the even one. 1 + 3/256 lies
    // between 1 + 1/128 (0x3f81, odd) and 1 + 2/128 (0x3f82); 1 + 1/256 between 1 (0x3f80, even) and 0x3f81.
    expect(bfloat16Bits(1 + 3 / 256)).toBe(0x3f82);
    expect(bfloat16Bits(1 + 1 / 256)).toBe(0x3f80);
  });

  it('refuses an integer (I64) tensor in a model file: only the features file takes I64', () => {
    const net = randomNetwork({ inputs: 3, width: 4, blocks: 1, classes: 2, seed: 3 });
    const tensors = new Map(networkTensors(net)).set('out.bias', { shape: [2], data: Float64Array.of(0, 1) });
    const bytes = writeSafetensors(tensors, networkMetadata(net), 'F32', { 'out.bias': 'I64' });
    expect(() => parseModel(bytes, 'm.safetensors')).toThrow(
      `m.safetensors 'out.bias': expected dtype F16, BF16, F32 or F64, got "I64"`,
    );
  });

  it('loads a whole model saved as BF16, upcast to the bfloat16 values, and runs it', () => {
    const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 3 });
    const bytes = writeSafetensors(networkTensors(net), networkMetadata(net), 'BF16');
    const loaded = parseModel(bytes, 'bf16.safetensors');
    const w = net.pre.weight.data;
    const asBf16 = (v: number) => new Float32Array(Uint32Array.of(bfloat16Bits(v) << 16).buffer)[0];
    for (let i = 0; i < w.length; i++) expect(loaded.pre.weight.data[i]).toBe(asBf16(w[i]));
    expect(runNetwork(loaded, randomInputs(5, 3, 1)).decision).toBeGreaterThanOrEqual(0);
  });
});

describe('a file without __metadata__.skip', () => {
  const fileWithout = (width: number, cells: number, skip?: string) => {
    const net = randomNetwork({ inputs: 3, width, cells, blocks: 1, classes: 2, seed: 5, skip: skip === 'true' });
    const meta = { ...networkMetadata(net) } as Record<string, string>;
    if (skip === undefined) delete meta.skip;
    else meta.skip = skip;
    return writeSafetensors(networkTensors(net), meta, 'F64');
  };

  it('is refused when S = H (the shapes cannot tell), naming the key and how to add it', () => {
    let err: unknown;
    try {
      parseModel(fileWithout(4, 4), 'plain.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('__metadata__.skip');
    expect((err as Error).message).toMatch(/metadata=\{"arch": "fq-bmru", "blocks": "<L>", "skip": "true"\}/);
  });

  it('is read as no skip when S != H (a skip path needs S = H), and skip "true" with S != H is refused', () => {
    expect(parseModel(fileWithout(4, 6), 'no-skip.safetensors').skip).toBe(false);
    expect(() => parseModel(fileWithout(4, 6, 'true'), 'bad.safetensors')).toThrow(/needs S = H/);
  });
});
