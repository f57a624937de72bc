#!/usr/bin/env bash
# What a `compare --partitioned --slurm` task costs besides its ngspice: node start-up, loading the model, clip and
# process, and getting its partition (building and cutting the whole circuit, or loading the stored plan), timed on
# the path of a task whose partition already has a record (it then stops), for random networks of widths 16, 64, 128
# (seed 1, 2 blocks, per cell, 1 frame). No Slurm needed. Give one or more bmru.js to compare builds, e.g. an older one:
#
#   npm run build && bench/slurm-task-overhead.sh                       # this checkout
#   bench/slurm-task-overhead.sh /tmp/old/bin/bmru.js bin/bmru.js      # a copy of an older build against this one
#
# The record is a stand-in (schema-valid, no rawfile): only whether it exists is read on this path.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$ROOT/bin/bmru.js")
DIR="$(mktemp -d "${TMPDIR:-/tmp}/bmru-task-overhead-XXXXXX")"
node --input-type=module -e "
import { randomNetwork, randomInputs, saveModel, inputsCsv } from '$ROOT/dist/index.js';
import { writeFileSync } from 'node:fs';
for (const w of [16, 64, 128])
  await saveModel(randomNetwork({ inputs: 13, width: w, blocks: 2, classes: 2, seed: 1 }), '$DIR/w' + w + '.json');
const x = randomInputs(2, 13, 1);
writeFileSync('$DIR/clip1.csv', inputsCsv({ frames: 1, features: 13, data: x.data.subarray(0, 13) }));
"
for w in 16 64 128; do
  o="$DIR/out$w"
  args=(compare -m "$DIR/w$w.json" -i "$DIR/clip1.csv" --partitioned --partition-by cell --max-transistors 1000000 -o "$o")
  node "${BINS[-1]}" "${args[@]}" --slurm --dry-run >/dev/null 2>&1 # run.json (and, from this commit on, the plan)
  # A task of an older build finds the plan already stored (the newest build wrote it); it does not read it.
  k=$(node -e "const d=require('$o/partitions/run.json');console.log(d.partitions.indexOf('block 1 cell 0'))")
  node -e "
const fp=require('$o/partitions/run.json').fingerprint;
require('fs').writeFileSync('$o/partitions/p$k.json', JSON.stringify({fingerprint:fp,pass:1,index:$k,
  info:{index:$k,label:'block 1 cell 0',transistors:0,replicas:0,handoffs:0,handoffPoints:0,durationMs:0,points:0},
  ngspiceVersion:'-',exitCode:0,messages:[],stdoutTail:'',stderrTail:'',startedAt:'-',endedAt:'-',ranOn:{host:'-'}}));"
  for bin in "${BINS[@]}"; do
    for rep in 1 2 3; do
      /usr/bin/time -f "width $w, $bin: %U user + %S sys CPU-s, %M KB peak" node "$bin" "${args[@]}" --slurm-part "1:$k" 2>&1 >/dev/null | tail -1
    done
  done
done
rm -rf "$DIR"
