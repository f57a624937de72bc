/**
 * WAV encodings as sox writes them (G.711 mu-law and A-law, and a streamed 'data' size), read by the toolkit's
 * decoder against sox's own 16-bit PCM of the same tone. Needs sox: vitest.config.ts skips this file without it and
 * fails the run in CI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWav, readWav } from '../../src/audio/wav.js';

const SOX = process.env.BMRU_SOX ?? 'sox';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-wav-sox-'));
  // The same 0.1 s 440 Hz tone at 8 kHz, half scale, three ways.
  const tone = (file: string, ...enc: string[]) =>
    execFileSync(SOX, [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      ...enc,
      path.join(dir, file),
      'synth',
      '0.1',
      'sine',
      '440',
      'vol',
      '0.5',
    ]);
  tone('pcm.wav', '-e', 'signed-integer', '-b', '16');
  tone('mulaw.wav', '-e', 'u-law');
  tone('alaw.wav', '-e', 'a-law');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('G.711 WAV files written by sox', () => {
  it.each(['mulaw', 'alaw'] as const)('%s decodes to the 16-bit PCM tone within its quantisation step', async (enc) => {
    const ref = await readWav(path.join(dir, 'pcm.wav'));
    const got = await readWav(path.join(dir, `${enc}.wav`));
    expect(got.encoding).toBe(enc);
    expect([got.sampleRateHz, got.bitsPerSample, got.samples.length]).toEqual([8000, 8, ref.samples.length]);
    // G.711 keeps ~4 mantissa bits: the error is under 1/16 of the value plus the smallest step near zero.
    let worst = 0;
    ref.samples.forEach((r, i) => (worst = Math.max(worst, Math.abs(got.samples[i] - r) / (Math.abs(r) + 0.01))));
    expect(worst).toBeLessThan(1 / 16);
    expect(Math.max(...got.samples.map(Math.abs))).toBeGreaterThan(0.45);
  });

  it("reads a streamed file, whose 'data' size is 0 or 0xFFFFFFFF, to its end", async () => {
    const bytes = new Uint8Array(await readFile(path.join(dir, 'pcm.wav')));
    const whole = parseWav(bytes, 'pcm.wav').samples;
    const at = Buffer.from(bytes).indexOf('data') + 4;
    for (const size of [0, 0xffffffff]) {
      const streamed = bytes.slice();
      new DataView(streamed.buffer).setUint32(at, size, true);
      expect(Array.from(parseWav(streamed, 'streamed.wav').samples)).toEqual(Array.from(whole));
    }
  });
});
