#!/bin/bash
# An ngspice stand-in for BMRU_NGSPICE that keeps, per run, ngspice's stdout (its `.options acct` lines) and its own
# CPU seconds in $ACCT_DIR, then `node bench/ngspice-acct.mjs $ACCT_DIR` sums them: where ngspice's time goes
# outside its transient analysis (docs/partition.md, session 28). For example:
#   mkdir /tmp/acct && ACCT_DIR=/tmp/acct BMRU_NGSPICE=$PWD/bench/ngspice-acct.sh node bench/partition-wide.mjs 32 22
set -o pipefail
: "${ACCT_DIR:?set ACCT_DIR to a folder for the records of the runs}"
run="$ACCT_DIR/$(date +%s%N)-$$"
/usr/bin/time -f "%U %S" -o "$run.time" ngspice "$@" | tee "$run.out"
