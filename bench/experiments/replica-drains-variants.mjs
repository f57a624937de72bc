// Variants for replica-drains.mjs (see there). frontToSharedOnly and frontToOutputs ran with a bug (replicas left
// undriven in a driven partition lost their drains) and are not quoted in docs/partition.md.
export default ({ mono, globalV, constant, plan, vector, compressPwl }) => {
  const follow = (p, first, tolV, pick = () => true) =>
    first && {
      tolV,
      globalV,
      waveform: (d) => {
        if (!pick(d)) return undefined;
        const pl = first[d.from];
        if (!pl) return undefined;
        return compressPwl(vector(pl, 'time'), vector(pl, `v(${d.node})`), tolV);
      },
    };
  const kind = (d) => plan.partitions[d.from].kind;
  return {
    twoPassLoose5: { replicaDrive: follow, rerun: () => true, firstPassLoosen: 5 },
    twoPassNoFront: { replicaDrive: follow, rerun: (p) => p.label !== 'front end' },
    twoPassFrontOnly: {
      replicaDrive: (p, first, tolV) => (p.label === 'front end' ? follow(p, first, tolV) : undefined),
      rerun: () => true,
    },
    frontToCells: {
      replicaDrive: (p, first, tolV) =>
        p.label === 'front end' ? follow(p, first, tolV, (d) => kind(d) === 'cell') : undefined,
      rerun: () => true,
    },
    frontToShared: {
      replicaDrive: (p, first, tolV) =>
        p.label === 'front end' ? follow(p, first, tolV, (d) => kind(d) !== 'cell') : undefined,
      rerun: () => true,
    },
    frontToSharedOnly: {
      replicaDrive: (p, first, tolV) =>
        p.label === 'front end' ? follow(p, first, tolV, (d) => kind(d) === 'shared') : undefined,
      rerun: () => true,
    },
    frontToOutputs: {
      replicaDrive: (p, first, tolV) =>
        p.label === 'front end' ? follow(p, first, tolV, (d) => kind(d) === 'output') : undefined,
      rerun: () => true,
    },
    front2: {
      replicaDrive: follow,
      firstPass: (p) => p.label === 'front end' || p.label.startsWith('block 0'),
      rerun: () => true,
    },
    toCells: { replicaDrive: (p, first, tolV) => follow(p, first, tolV, (d) => kind(d) === 'cell'), rerun: () => true },
    oracleMeanFront: {
      replicaDrive: (p, first, tolV) =>
        p.label === 'front end' ? { tolV, globalV, waveform: (d) => constant(mono.mean[d.node]) } : undefined,
    },
  };
};
