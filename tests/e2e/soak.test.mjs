// A one-minute long session on every scene (scripts/soak.mjs, where the measurement and its
// bounds are explained): each scene's presets and seeded slider moves, cycle after cycle on one
// page, with the engine's memory in every worker and the page's JS heap sampled after each cycle;
// at least three cycles, so about two minutes on a 2-core machine. Asserts that memory stays
// bounded from the second cycle to the last, that the first preset's
// speed does not decay, and that no page logs an error or fails. The ten-minute version:
// node scripts/soak.mjs --minutes 10

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { soak } from '../../scripts/soak.mjs';

test('a one-minute session on every scene: memory bounded, no slowdown, no errors', { timeout: 600_000 }, async () => {
  const lines = [];
  const { scenes, ok } = await soak({ minutes: 1, dwellMs: 500, log: (l) => lines.push(l) });
  const report = lines.join('\n');
  for (const [id, r] of Object.entries(scenes)) {
    assert.ok(r.cycles >= 3, `${id}: ${r.cycles} cycle(s)\n${report}`);
    // Every sample found the engine in at least one worker: the measurement measured something.
    assert.ok(r.samples.every((s) => s.workers >= 1 && s.wasm > 0), `${id}: no engine memory read\n${report}`);
    for (const [what, good] of Object.entries(r.verdicts)) assert.ok(good, `${id}: ${what}\n${report}`);
  }
  assert.ok(ok, report);
  console.log(report);
});
