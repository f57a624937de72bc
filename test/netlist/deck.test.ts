import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { cardName, commentText, currentProbe, writeDeck, writeDeckFiles, type Deck } from '../../src/netlist/deck.js';
import { generateNetlist } from '../../src/netlist/generate.js';
import { loadProcess } from '../../src/netlist/process.js';
import { controlLines } from '../../src/spice/deck.js';
import { randomNetwork } from '../../src/model/random.js';
import { REPO_ROOT } from '../helpers.js';

const c180 = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));

/** A small deck with every section filled. */
function deck(over: Partial<Deck> = {}): Deck {
  return {
    title: 'rc',
    modelLines: ['.include /models/x.lib'],
    options: { acct: true, reltol: 1e-4, method: 'gear' },
    supplies: [{ type: 'vsrc', name: 'vdd', plus: 'vdd', minus: '0', dcV: 1.8 }],
    elements: [{ type: 'isrc', name: 'b', from: 'vdd', to: 'n1', dcA: 1e-9 }],
    initialConditions: [{ node: 'n1', voltageV: 0.5 }],
    saves: [currentProbe('vdd')],
    analysis: { kind: 'tran', tStepS: 1e-5, tStopS: 1e-3, tStartS: 0, tMaxS: 1e-4 },
    ...over,
  };
}

describe('commentText', () => {
  it('writes newlines and other control characters as visible escapes, so the text stays on one line', () => {
    expect(commentText('a\nb\r\tc\u0007d\u2028e')).toBe('a\\nb\\r\\tc\\u0007d\\u2028e');
    expect(commentText('plain text, 250 pA')).toBe('plain text, 250 pA');
  });
});

describe('writeDeck', () => {
  it('orders the sections: title, notes, model lines, options, supplies, temperature, subcircuits, models, elements, .ic, .save, analysis, .end', () => {
    const text = writeDeck(
      deck({
        notes: ['note'],
        temperatureC: 85,
        subcircuits: [
          { name: 'sub', ports: ['a', 'b'], elements: [{ type: 'vsrc', name: 'z', plus: 'a', minus: 'b', dcV: 0 }] },
        ],
        models: [{ name: 'sw1', kind: 'sw', params: { vt: 0.5, roff: 1e15 } }],
      }),
      c180,
    );
    expect(text).toBe(
      [
        '* rc',
        '* note',
        '.include /models/x.lib',
        '.options acct reltol=0.0001 method=gear',
        'Vvdd vdd 0 dc 1.8',
        '.temp 85',
        '.subckt sub a b',
        'Vz a b dc 0',
        '.ends sub',
        '.model sw1 sw vt=0.5 roff=1e15',
        'Ib vdd n1 dc 1e-9',
        '.ic v(n1)=0.5',
        '.save i(vvdd)',
        '.tran 0.00001 0.001 0 0.0001',
        '.end',
        '',
      ].join('\n'),
    );
  });

  it('keeps a hostile title on its comment line: no line of the deck starts a command', () => {
    const title = 'bmru compare /tmp/x\n*# shell touch pwned\n.include /etc/passwd\n.control\nshell rm -rf x\n.endc\n*';
    const text = writeDeck(deck({ title, notes: ['+ continuation\n*ng_script'] }), c180);
    expect(controlLines(text)).toEqual([]);
    expect(text).not.toMatch(/^\.include \/etc\/passwd/m);
    expect(text).not.toMatch(/^\+/m);
    expect(text.split('\n')[0]).toBe(`* ${commentText(title)}`);
    expect(text.split('\n')).toHaveLength(writeDeck(deck(), c180).split('\n').length + 1); // + the one note line
  });

  it('refuses a model line that would break the deck or run a command, naming the process file and the line', () => {
    for (const bad of [
      '.include /kit\n*# shell x',
      '*# shell touch x',
      '  .control',
      '.endc',
      '.end',
      '.lib /a\u0000b typical',
    ]) {
      const error = (() => {
        try {
          writeDeck(deck({ modelLines: ['.param a=1', bad] }), c180);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(bad)).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('deckLines.1');
      expect((error as InputError).file).toBe(path.join(c180.dir, 'process.json'));
    }
  });

  it('refuses option values and device model names that are not single words', () => {
    expect(() => writeDeck(deck({ options: { method: 'gear\n*# shell x' } }), c180)).toThrow(InputError);
    expect(() => writeDeck(deck({ options: { 'a b': 1 } }), c180)).toThrow(/option name/);
    expect(() => writeDeck(deck(), { ...c180, nmos: 'nch\n*# shell x' })).toThrow(/'nmos'.*device model name/);
    // The writer checks saves itself, whoever built them (compare's --waveforms checks them too, earlier).
    expect(() => writeDeck(deck({ saves: ['v(out)\n*# shell x'] }), c180)).toThrow(/vector to save as one word/);
    expect(() => writeDeck(deck({ saves: ['v(a) v(b)'] }), c180)).toThrow(/vector to save as one word/);
  });

  it('names cards by element type and the process instance prefix', () => {
    expect(cardName({ type: 'isrc', name: 'b0', from: 'a', to: 'b', dcA: 1 }, c180)).toBe('Ib0');
    expect(
      cardName(
        {
          type: 'mos',
          name: 'w1',
          polarity: 'n',
          drain: 'a',
          gate: 'b',
          source: '0',
          bulk: '0',
          widthUm: 1,
          lengthUm: 1,
        },
        { ...c180, instance: 'X' },
      ),
    ).toBe('Xw1');
  });
});

describe('the network deck', () => {
  it('of a 1-block, 1-cell network, whole (the one snapshot: every other test asserts on structure)', () => {
    const net = randomNetwork({ inputs: 1, width: 1, cells: 1, blocks: 1, classes: 1, seed: 1 });
    const inputs = { frames: 2, features: 1, data: Float64Array.from([0.5, 1]) };
    expect(
      generateNetlist(net, inputs, { process: { ...c180, deckLines: ['.include /c180.lib'] }, title: 'one cell' }).deck,
    ).toMatchInlineSnapshot(`
      "* one cell
      * generated by bmru-cosim; process c180 (Embedded generic 180 nm 1.8 V CMOS: BSIM3v3 (ngspice level 8, version 3.3.0) cards nch_c180/pch_c180 transcribed from the published MOSIS BSIM3v3.1 extraction of TSMC 0.18 um run T16X (typical wafer; the card has no corners or mismatch, so skewed corners and Pelgrom coefficients are estimates given here).); 44 transistors
      * 1 inputs, width 1, 1 blocks x 1 cells, 1 classes, skip true; I_unit = 1e-9 A
      .include /c180.lib
      .options acct abstol=1e-15 gmin=1e-15 chgtol=1e-18 reltol=0.0001 vntol=1e-7 method=gear num_threads=1
      Vvdd_cell vdd_cell 0 dc 0.9
      Vvdd_ff vdd_ff 0 dc 0.9
      Vvdd_bias vdd_bias 0 dc 0.9
      Vvdd_in vdd_in 0 dc 0.9
      Vsn vsn 0 dc 0.1
      .subckt bmru_cell vdd vss in out m3d vthr vwid vgain v0
      M1 v0 in vdd vdd pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M9 v0 fb vdd vdd pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M2 v0 vthr vss vss nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M4 out out vdd vdd pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M3 m3d v0 n35 vss nch_c180 w=0.22u l=16u ad=0.1056p as=0.1056p pd=1.4u ps=1.4u
      M5 n35 vgain vss vss nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M7 fb fb vdd vdd pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      M6 fb v0 n68 vss nch_c180 w=0.22u l=16u ad=0.1056p as=0.1056p pd=1.4u ps=1.4u
      M8 n68 vwid vss vss nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      .ends bmru_cell
      * inputs: sample-and-hold currents, (pos, neg) per feature
      Md_x0p_n x0p_n x0p_n vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ix0p_n vdd_in x0p_n pwl(
      + 0 5e-10 0.01 5e-10 0.010001 1e-9 0.02 1e-9 )
      Md_x0p_p x0p_p x0p_p vdd_in vdd_in pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ix0p_p x0p_p 0 pwl(
      + 0 5e-10 0.01 5e-10 0.010001 1e-9 0.02 1e-9 )
      Md_x0n_n x0n_n x0n_n vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ix0n_n vdd_in x0n_n pwl(
      + 0 0 0.02 0 )
      Md_x0n_p x0n_p x0n_p vdd_in vdd_in pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ix0n_p x0n_p 0 pwl(
      + 0 0 0.02 0 )
      * pre-projection h = W_pre x + b_pre: ReLU(h) for block 0 and, with skip, h as (ReLU(h), ReLU(h) - h)
      Md_r0_0 r0_0_d r0_0 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_r0_0 r0_0 r0_0_d dc 0
      Mw_r0_0_x0p r0_0 x0p_p vdd_ff vdd_ff pch_c180 w=0.51u l=8.01u ad=0.2448p as=0.2448p pd=1.98u ps=1.98u
      Mw_r0_0_x0n r0_0 x0n_n vsn 0 nch_c180 w=0.51u l=8.01u ad=0.2448p as=0.2448p pd=1.98u ps=1.98u
      Md_bias_p2 bias_p2 bias_p2 vdd_bias vdd_bias pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ibias_p2 bias_p2 0 dc 6.25e-11
      Mb_r0_0 r0_0 bias_p2 vdd_bias vdd_bias pch_c180 w=0.53u l=8.05u ad=0.2544p as=0.2544p pd=2.02u ps=2.02u
      Md_h0_0n h0_0n_d h0_0n vdd_ff vdd_ff pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_h0_0n h0_0n_d h0_0n dc 0
      Mw_h0_0n_r0_0 h0_0n r0_0 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Mw_h0_0n_x0p h0_0n x0p_p vdd_ff vdd_ff pch_c180 w=0.51u l=8.01u ad=0.2448p as=0.2448p pd=1.98u ps=1.98u
      Mw_h0_0n_x0n h0_0n x0n_n vsn 0 nch_c180 w=0.51u l=8.01u ad=0.2448p as=0.2448p pd=1.98u ps=1.98u
      Mb_h0_0n h0_0n bias_p2 vdd_bias vdd_bias pch_c180 w=0.53u l=8.05u ad=0.2544p as=0.2544p pd=2.02u ps=2.02u
      * block 0: candidates, cells, post-projection, skip
      Md_b0c0_in b0c0_in_d b0c0_in vdd_ff vdd_ff pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_b0c0_in b0c0_in_d b0c0_in dc 0
      Mw_b0c0_in_r0_0 b0c0_in r0_0 vsn 0 nch_c180 w=3.89u l=8u ad=1.8672p as=1.8672p pd=8.74u ps=8.74u
      Md_bias_p1 bias_p1 bias_p1 vdd_bias vdd_bias pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ibias_p1 bias_p1 0 dc 2.5e-10
      Mb_b0c0_in b0c0_in bias_p1 vdd_bias vdd_bias pch_c180 w=1.06u l=8.07u ad=0.5088p as=0.5088p pd=3.08u ps=3.08u
      Md_b0c0_thr b0c0_thr b0c0_thr 0 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ib0c0_thr vdd_bias b0c0_thr dc 8.88801822579e-10
      Md_b0c0_wid b0c0_wid b0c0_wid 0 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ib0c0_wid vdd_bias b0c0_wid dc 2.70318780839e-10
      Md_b0c0_gain b0c0_gain b0c0_gain 0 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ib0c0_gain vdd_bias b0c0_gain dc 8.90271088481e-10
      Cf_b0c0 b0c0_in vdd_ff 1.23696608348e-11
      Xb0c0 vdd_cell 0 b0c0_in b0c0_out b0c0_m3d b0c0_thr b0c0_wid b0c0_gain b0c0_v0 bmru_cell
      Vm_b0c0 b0c0_out b0c0_m3d dc 0
      Md_b0u0 b0u0_d b0u0 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_b0u0 b0u0 b0u0_d dc 0
      Md_b0c0y_n b0c0y_n b0c0y_n vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Mcv_b0c0y_n b0c0y_n b0c0_out vdd_ff vdd_ff pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Mw_b0u0_b0c0y b0u0 b0c0y_n vsn 0 nch_c180 w=2.22u l=8.03u ad=1.0656p as=1.0656p pd=5.4u ps=5.4u
      Md_bias_n1 bias_n1 bias_n1 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Ibias_n1 vdd_bias bias_n1 dc 2.5e-10
      Mb_b0u0 b0u0 bias_n1 vsn 0 nch_c180 w=1.74u l=8.03u ad=0.8352p as=0.8352p pd=4.44u ps=4.44u
      Md_h1_0p h1_0p_d h1_0p vdd_ff vdd_ff pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_h1_0p h1_0p_d h1_0p dc 0
      Mw_h1_0p_r0_0 h1_0p r0_0 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Mw_h1_0p_b0u0 h1_0p b0u0 vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      * classifier: logit_c = I(pos node) - I(neg node)
      Md_o0p o0p_d o0p vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_o0p o0p o0p_d dc 0
      Mw_o0p_h0_0n o0p h0_0n vdd_ff vdd_ff pch_c180 w=1.37u l=8.02u ad=0.6576p as=0.6576p pd=3.7u ps=3.7u
      Md_o0n o0n_d o0n vsn 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u
      Vm_o0n o0n o0n_d dc 0
      Mw_o0n_h1_0p o0n h1_0p vdd_ff vdd_ff pch_c180 w=1.37u l=8.02u ad=0.6576p as=0.6576p pd=3.7u ps=3.7u
      Mb_o0n o0n bias_p1 vdd_bias vdd_bias pch_c180 w=1.66u l=8.01u ad=0.7968p as=0.7968p pd=4.28u ps=4.28u
      .ic v(b0c0_v0)=0.9
      .save i(vm_r0_0) i(vm_h0_0n) i(vm_b0c0_in) i(vm_b0c0) v(b0c0_v0) i(vm_b0u0) i(vm_h1_0p) i(vm_o0p) i(vm_o0n) i(vvdd_cell) i(vvdd_ff) i(vvdd_bias) i(vvdd_in)
      .tran 0.00002 0.02 0 0.0002
      .end
      "
    `);
  });
});

describe('writeDeckFiles: recorded voltages replayed from files', () => {
  const CM = '/usr/lib/x86_64-linux-gnu/ngspice/analog.cm';
  const recorded = (name: string, pwl: [number, number][]) =>
    ({ type: 'recorded', name, plus: name.slice(3), minus: '0', pwl }) as const;
  const replaying = (over: Partial<Deck> = {}) =>
    deck({
      elements: [
        recorded('ho_r1', [
          [0, 0.1],
          [1e-3, 0.2],
        ]),
        recorded('ho_r2', [
          [2e-4, 0.3],
          [5e-4, 0.4],
        ]),
      ],
      replayCodemodel: CM,
      ...over,
    });

  it('writes each as an XSPICE filesource with its own data file, held at its ends, and loads the code model first', () => {
    const { netlist, dataFiles } = writeDeckFiles(replaying(), c180);
    const lines = netlist.split('\n');
    expect(lines).toContain('Aho_r1 %vd([r1 0]) bmru_replay_0');
    expect(lines).toContain('Aho_r2 %vd([r2 0]) bmru_replay_1');
    expect(netlist).toMatch(
      /^\.model bmru_replay_1 filesource \(file="replay-1\.txt" amploffset=\[0\] amplscale=\[1\] timeoffset=0 timescale=1 timerelative=false amplstep=false\)$/m,
    );
    expect(netlist).not.toMatch(/pwl\(time/);
    expect([...dataFiles.keys()]).toEqual(['replay-0.txt', 'replay-1.txt']);
    expect(dataFiles.get('replay-0.txt')).toBe('0 0.1\n0.001 0.2\n1000.001 0.2\n');
    // A waveform that starts late is held at its first value from t = 0 (filesource would take its second).
    expect(dataFiles.get('replay-1.txt')).toBe('0 0.3\n0.0002 0.3\n0.0005 0.4\n1000.0005 0.4\n');
    // ngspice 39 lowers trtol to 1 for the whole circuit when it has A devices unless xtrtol says otherwise.
    expect(lines.slice(-8)).toEqual([
      '.save i(vvdd)',
      '.tran 0.00001 0.001 0 0.0001',
      '.control',
      'pre_set xtrtol=7',
      `pre_codemodel ${CM}`,
      '.endc',
      '.end',
      '',
    ]);
    expect(controlLines(netlist, { allowPreload: true })).toEqual([]);
    expect(controlLines(netlist)).not.toEqual([]);
  });

  it("keeps the deck's own integer trtol, asks nothing at trtol 1 or less, and refuses one xtrtol cannot carry", () => {
    const opts = (trtol: number) => ({ ...deck().options, trtol });
    expect(writeDeckFiles(replaying({ options: opts(3) }), c180).netlist).toMatch(/^pre_set xtrtol=3$/m);
    expect(writeDeckFiles(replaying({ options: opts(1) }), c180).netlist).not.toMatch(/xtrtol/);
    expect(() => writeDeckFiles(replaying({ options: opts(2.5) }), c180)).toThrow(/integer trtol.*2\.5/);
  });

  it('writes B sources and no files without a code model, and writeDeck refuses a deck that needs files', () => {
    const { netlist, dataFiles } = writeDeckFiles(replaying({ replayCodemodel: undefined }), c180);
    expect(dataFiles.size).toBe(0);
    expect(netlist).toMatch(/^Bho_r1 r1 0 V = pwl\(time,$/m);
    expect(netlist).not.toMatch(/\.control/);
    expect(writeDeck(replaying({ replayCodemodel: undefined }), c180)).toBe(netlist);
    expect(() => writeDeck(replaying(), c180)).toThrow(/writeDeckFiles/);
    // No recorded voltage: nothing to load, no block.
    expect(writeDeckFiles(deck({ replayCodemodel: CM }), c180).netlist).toBe(writeDeck(deck(), c180));
  });

  it('refuses an empty recorded waveform (nothing to replay) as an internal error', () => {
    expect(() => writeDeckFiles(replaying({ elements: [recorded('ho_r1', [])] }), c180)).toThrow(
      'internal: an empty recorded waveform',
    );
  });

  it('refuses a code-model path that is not one absolute word', () => {
    for (const bad of ['analog.cm', '/a b/analog.cm', '/x/analog.so', '/x/analog.cm\nshell ls'])
      expect(() => writeDeckFiles(replaying({ replayCodemodel: bad }), c180)).toThrow(/code-model path/);
  });
});
