// A worker of the weak labels' sweep pool (core/task-pool.js ↔ core/pool-host.js): each job is
// one pure engine call, so any worker may take any job, in any order:
//   {kind: 'cell', config, bag, seed}   weakCell: the instance test accuracy of DLLP, EasyLLP
//                                       and the mean map trained on the same bags
//   {kind: 'reference', config, seed}   weakReference: the supervised ceiling and the prior floor
// On the reader's own data a job also carries `table` = {id, text, options} (digits.js).

import { weakCell, weakReference } from '../../../pkg/descent.js';
import { ERROR_DURING, finite } from '../../core/protocol.js';
import { hostPool } from '../../core/pool-host.js';
import { dataFor } from './digits.js';

hostPool({
  async cell(job) {
    await dataFor(job.config, job.table);
    const t0 = performance.now();
    const r = weakCell({ ...job.config }, job.bag, job.seed);
    return {
      bag: finite(r.bag) ?? job.bag,
      seed: finite(r.seed) ?? job.seed,
      dllp: finite(r.dllp),
      easyllp: finite(r.easyllp),
      meanMap: finite(r.meanMap),
      meanMapRefused: r.meanMapRefused == null ? null : String(r.meanMapRefused),
      ms: performance.now() - t0,
    };
  },
  async reference(job) {
    await dataFor(job.config, job.table);
    const r = weakReference({ ...job.config }, job.seed);
    return { seed: finite(r.seed) ?? job.seed, ceiling: finite(r.ceiling), floor: finite(r.floor) };
  },
}, ERROR_DURING.WEAK_SWEEP);
