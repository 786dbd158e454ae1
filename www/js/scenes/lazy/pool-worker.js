// A worker of the width sweeps' pool (core/task-pool.js ↔ core/pool-host.js), started by the
// lazy-or-rich worker that holds the sweep (core/task-fanout.js): each job is one network,
//   {kind: 'run', config, widths, steps, seeds, at}   lazySweepRun: run `at` of the sweep,
//                                                     {width, seed, weightChange, kernelDistance},
// trained exactly as the whole sweep trains it.

import { lazySweepRun } from '../../../pkg/descent.js';
import { ERROR_DURING } from '../../core/protocol.js';
import { hostPool } from '../../core/pool-host.js';

hostPool({
  run: (job) => lazySweepRun({ ...job.config }, job.widths, job.steps, job.seeds, job.at),
}, ERROR_DURING.SWEEP);
