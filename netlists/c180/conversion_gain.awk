# Tabulates conversion_cascode.cir's GAIN lines: per topology, the gain and its error in % vs 1.0 and vs the
# geometric mean over 0.1-3 nA (the calibrator's mirror-table currents), and the spread (max - min) over 0.1-10 nA.
/^GAIN/ { t = $2; sub("I=", "", $3); sub("g=", "", $4); i = $3 + 0; g[t, i] = $4 + 0; order[t] = ++seen[t] == 1 ? ++nt : order[t]; name[order[t]] = t; cur[t, seen[t]] = i }
END {
  for (k = 1; k <= nt; k++) {
    t = name[k]; s = 0; n = 0; lo = 1e9; hi = -1e9
    for (j = 1; j <= seen[t]; j++) { i = cur[t, j]; if (i <= 3.0001e-9) { s += log(g[t, i]); n++ } }
    m = exp(s / n)
    line = sprintf("%-4s mean(0.1-3nA)=%.5f |", t, m)
    for (j = 1; j <= seen[t]; j++) {
      i = cur[t, j]; x = g[t, i]; if (x < lo) lo = x; if (x > hi) hi = x
      line = line sprintf(" %gnA %.5f (%+.3f%% / %+.3f%%)", i * 1e9, x, (x - 1) * 100, (x / m - 1) * 100)
    }
    printf "%s | spread %.3f%%\n", line, (hi - lo) * 100
  }
}
