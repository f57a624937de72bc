#!/usr/bin/env node
// A deck with every unity rail conversion (`Mcv_*` / `Xcv_*`) made ideal in V_DS: the copy's drain is held at its
// gate's voltage (the reference diode's V_DS, drain = gate) by a voltage-controlled source in series that passes the
// copy's current on to the conversion's diode, and the copy is sized as its diode (no calibration correction). This is
// the best any cascode of the conversions can do (netlists/*/conversion_cascode.cir measure buildable ones); scoring
// the deck with `bmru compare --from-raw` shows what V_DS-matched conversions would change in a whole circuit.
//
//   node bin/bmru.js compare --keep-raw -o out/ex                       # the deck as built: out/ex/deck.cir
//   node scripts/ideal-conversions.mjs out/ex/deck.cir out/ideal.cir --size w=2u,l=8u
//   ngspice -b -r out/ideal.raw out/ideal.cir && node bin/bmru.js compare --from-raw out/ideal.raw -o out/ideal
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output, flag, size] = process.argv.slice(2);
if (!input || !output || (flag !== undefined && (flag !== '--size' || !size))) {
  console.error('usage: node scripts/ideal-conversions.mjs <deck.cir> <out.cir> [--size w=2u,l=8u]');
  process.exit(2);
}
/** name=value pairs that replace the copy's own (the unit diode's size: c180 w=2u,l=8u; GF180MCU w=6u,l=8u). */
const sizes = (size ?? '')
  .split(',')
  .filter(Boolean)
  .map((kv) => kv.split('='));
let made = 0;
const lines = readFileSync(input, 'utf8')
  .split('\n')
  .flatMap((line) => {
    const m = /^([MX]cv_\S+) (\S+) (\S+) (.*)$/.exec(line);
    if (!m) return [line];
    const [, name, drain, gate, rest] = m;
    const inner = `cx_${name.slice(4)}`;
    const sized = sizes.reduce((r, [k, v]) => r.replace(new RegExp(`\\b${k}=\\S+`), `${k}=${v}`), rest);
    made++;
    // E: V(drain) - V(inner) = V(drain) - V(gate), so V(inner) = V(gate); its current is the copy's.
    return [`${name} ${inner} ${gate} ${sized}`, `E${name.slice(1)}_vds ${drain} ${inner} ${drain} ${gate} 1`];
  });
if (made === 0) {
  console.error(`${input}: no rail conversion (a line starting Mcv_ or Xcv_) found`);
  process.exit(1);
}
writeFileSync(output, lines.join('\n'));
console.log(`${made} rail conversions made ideal in V_DS: ${output}`);
