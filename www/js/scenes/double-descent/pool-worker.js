// A worker of the trained sweep's pool (core/task-pool.js ↔ core/pool-host.js), started by the
// double-descent worker that holds the sweep (core/task-fanout.js): each job is one network,
//   {kind: 'cell', config, seedIndex, widthIndex}   trainedCell: its {trainMse, testMse}, or
//                                                  null when it diverged,
// trained exactly as the whole sweep trains it.

import { trainedCell } from '../../../pkg/descent.js';
import { ERROR_DURING } from '../../core/protocol.js';
import { hostPool } from '../../core/pool-host.js';

hostPool({
  cell: (job) => trainedCell({ ...job.config }, job.seedIndex, job.widthIndex),
}, ERROR_DURING.TRAIN);
