/**
 * Test-only pause points for crash-consistency tests. With
 * `REMOTEPROC_RUNTIME_TEST_PAUSE=<point>` set, {@linkcode pausePoint} of that
 * name prints `remoteproc-runtime: test: paused at <point>` on stderr and
 * blocks the process for good, so a test can SIGKILL it at exactly that
 * step. Unset (always, outside tests), a pause point costs one cached
 * comparison. The marker goes to stderr, an open descriptor, so it needs no
 * path that Landlock or Deno's permissions would have to allow.
 *
 * @module
 */

/** The environment variable naming the point to pause at. */
export const PAUSE_ENV = "REMOTEPROC_RUNTIME_TEST_PAUSE";

/** Every named point, in the order the verbs pass them. */
export const PAUSE_POINTS = [
  "create.dir",
  "create.record",
  "create.claimed",
  "create.spawned",
  "create.recorded",
  "start.intent",
  "start.stored",
  "start.firmware-written",
  "start.signalled",
  "start.running",
  "delete.killed",
  "delete.stopped",
  "delete.firmware-removed",
  "delete.released",
] as const;

/** One of {@linkcode PAUSE_POINTS}. */
export type PausePoint = typeof PAUSE_POINTS[number];

let wanted: string | null | undefined;

/**
 * Pauses forever here when the test switch names this point.
 *
 * @param name The point reached.
 */
export function pausePoint(name: PausePoint): void {
  if (wanted === undefined) wanted = Deno.env.get(PAUSE_ENV) ?? null;
  if (wanted !== name) return;
  try {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`remoteproc-runtime: test: paused at ${name}\n`),
    );
  } catch {
    // nobody watches; pause anyway
  }
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}
