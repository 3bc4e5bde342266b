/**
 * `deno task sim [--root DIR] [--processors m4,dsp] [--trace]`: runs the
 * simulator until interrupted, so the runtime can be tried by hand with
 * `REMOTEPROC_RUNTIME_SYSROOT=DIR bin/remoteproc-runtime ...`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Simulator } from "./simulator.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string" },
    processors: { type: "string", default: "m4" },
    trace: { type: "boolean", default: false },
  },
});
const root = values.root ?? Deno.makeTempDirSync({ prefix: "remoteproc-sim-" });
const sim = await Simulator.create({
  root,
  processors: values.processors.split(",").filter(Boolean).map((name) => ({
    name,
    trace: values.trace,
  })),
});
const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
out(`simulator running under ${sim.root}`);
out(`try: REMOTEPROC_RUNTIME_SYSROOT=${sim.root} bin/remoteproc-runtime list`);
out(
  `crash remoteproc0: echo 1 > ${sim.root}/sys/kernel/debug/remoteproc/remoteproc0/crash`,
);
let shown = 0;
const timer = setInterval(() => {
  while (shown < sim.events.length) out(sim.events[shown++]!);
}, 100);
const stop = async () => {
  clearInterval(timer);
  await sim.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
