/** bmru kws-data and bmru features refusing bad input; runs without espeak-ng and sox (kws-data-tools.test.ts needs them). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cliFixture, expectOneErrorLine, TINY_KWS_SET as TINY, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru kws-data and bmru features errors', () => {
  it('names a missing espeak-ng and says how to install it', async () => {
    expectOneErrorLine(
      await cli.run(['kws-data', '-o', 'never', ...TINY], { BMRU_ESPEAK: '/nonexistent/espeak-ng' }),
      '/nonexistent/espeak-ng not found',
      'apt-get install -y espeak-ng',
    );
  });

  it('rejects bad settings before doing anything', async () => {
    expectOneErrorLine(await cli.run(['kws-data', '--speakers', '2']), 'speakers must be an integer >= 3');
    expectOneErrorLine(await cli.run(['kws-data', '--others', 'no,yes']), 'must be distinct');
    // 'core' holds 'no': a keyword may not also be an unknown word.
    expectOneErrorLine(
      await cli.run(['kws-data', '--keywords', 'core', '--others', 'no,bed']),
      'the keywords and the other words must be distinct, got yes, no, up, down, left, right, on, off, stop, go, no, bed',
    );
    expectOneErrorLine(await cli.run(['kws-data', '--keyword', 'yes', '--keywords', 'no']), 'mutually exclusive');
  });

  it('names a WAV file that is not one, and a folder without clips', async () => {
    await cli.write('fake.wav', 'ID3 not really a wav');
    expectOneErrorLine(await cli.run(['features', 'fake.wav']), 'fake.wav: expected a WAV file');
    expectOneErrorLine(await cli.run(['features', 'nope']), 'nope: cannot read (ENOENT)');
  });
});
