#!/bin/sh
# The CMRU comparison of docs/cmru.md: each arch on the synthetic set, seeds 1-5, one training at a time.
# Usage: sh scripts/cmru-sweep.sh [epochs] [seeds]   (writes out/cmru/runs/<config>-s<seed>.* and cpu.txt)
EPOCHS=${1:-60}
SEEDS=${2:-"1 2 3 4 5"}
OUT=out/cmru/runs
mkdir -p $OUT
for seed in $SEEDS; do
  for spec in "bmru:--arch bmru" \
    "relaxed:--arch cmru-relaxed --eps 0.5" \
    "cmru:--arch cmru --current-weight 0" \
    "annealed:--arch cmru --current-weight 0 --anneal"; do
    name=${spec%%:*}
    flags=${spec#*:}
    /usr/bin/time -f "$name-s$seed %U %S" -a -o $OUT/cpu.txt \
      nice node bin/bmru.js train $flags --epochs $EPOCHS --seed $seed -q -o $OUT/$name-s$seed.json > $OUT/$name-s$seed.log 2>&1
  done
done
