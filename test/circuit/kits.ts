import { resolve } from 'node:path';
import { loadCalibration, loadProcess, type Calibration, type Process } from '../../src/netlist/index.js';
import { REPO_ROOT, SHARED_DIR } from '../helpers.js';

/** The two kits every circuit claim is tested on: the embedded card and the real GF180MCU models in shared/. */
export const GF180_KIT = resolve(SHARED_DIR, 'pdk', 'gf180mcu');

export interface Kit {
  readonly name: string;
  readonly process: Process;
  readonly calibration?: Calibration;
}

export async function loadKit(name: 'c180' | 'gf180mcu'): Promise<Kit> {
  const process = await loadProcess(
    resolve(REPO_ROOT, 'models', name, 'process.json'),
    name === 'gf180mcu' ? GF180_KIT : undefined,
  );
  return { name, process, calibration: await loadCalibration(process.dir) };
}
