// A worker of the phase diagrams' pool (core/task-pool.js ↔ core/pool-host.js), started by the
// step-size worker that holds the diagram (core/task-fanout.js): each job is one column,
//   {kind: 'column', config, ix}   phaseColumn: the column's cells and its stability bound,
// computed on the CPU exactly as the whole diagram computes it.

import { phaseColumn } from '../../../pkg/descent.js';
import { ERROR_DURING } from '../../core/protocol.js';
import { hostPool } from '../../core/pool-host.js';

hostPool({
  column: (job) => phaseColumn({ ...job.config }, job.ix),
}, ERROR_DURING.PHASE);
