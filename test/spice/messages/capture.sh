#!/bin/sh
# Runs every deck of ../decks through the ngspice on PATH the way runNgspice does and keeps what it said:
# <deck>.stdout, <deck>.stderr and <deck>.exit (the exit code). Run from this folder.
set -u
raw=$(mktemp -d)
for path in ../decks/*.cir; do
  deck=$(basename "$path" .cir)
  SPICE_ASCIIRAWFILE=0 ngspice -b -n -r "$raw/out.raw" -D filetype=binary -D num_threads=1 "$path" \
    > "$deck.stdout" 2> "$deck.stderr"
  echo $? > "$deck.exit"
  rm -f "$raw/out.raw"
done
rmdir "$raw"
