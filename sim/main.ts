/**
 * The simulator's command line (`npm run sim -- [options]`, or
 * `deno task sim [options]`): builds a fake sysfs and plays the kernel's
 * part until interrupted, so the runtime can be tried by hand with
 * `REMOTEPROC_RUNTIME_SYSROOT=DIR bin/remoteproc-runtime ...`. `--help`
 * lists the options.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import {
  type ProcessorSpec,
  Simulator,
  SIMULATOR_MARK,
  SimulatorError,
} from "./simulator.ts";
import { parseBoard, parseProcessors } from "./board.ts";

const USAGE = `usage: npm run sim -- [--root DIR] [--reset]
                      [--processors LIST | --board FILE.json] [--trace]

  --root DIR          the sysroot to build: a new or empty directory under
                      /tmp, or one the simulator built before (default: a new
                      temporary directory)
  --reset             start afresh on a --root the simulator built before
                      (default: reuse it: processors keep their state,
                      firmware name and recovery setting; the runtime's
                      containers, stored firmware and plugin profiles stay)
  --processors LIST   processors separated by commas (default m4), each
                      NAME[:FIELD=VALUE]... with the fields of ProcessorSpec
                      (sim/simulator.ts): driver, compatible (vendor,model;
                      may be repeated), deviceName, cluster,
                      bootState=attached, recovery=disabled, trace,
                      startDelayMs, stopDelayMs, refuseStart=ERRNO,
                      refuseStartTimes, refuseStop=ERRNO, refuseStopTimes,
                      refuseStopAttached=ERRNO, crashedStopRefused
  --board FILE.json   the processors as {"processors": [{"name": "m4", ...}]}
  --trace             give every processor a debugfs trace buffer (trace0):
                      what is appended to it is the firmware's output, which
                      the proxy forwards to the container's log
  --help              this text

example: npm run sim -- --root /tmp/rprt-sim \\
           --processors m4:driver=imx-rproc:compatible=fsl,imx8mm-cm4,dsp`;

const encoder = new TextEncoder();
const out = (line: string) =>
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
/** One line on stderr, then exit. */
function die(message: string, code: number): never {
  Deno.stderr.writeSync(encoder.encode(`simulator: ${message}\n`));
  Deno.exit(code);
}

let values;
try {
  values = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string" },
      reset: { type: "boolean", default: false },
      processors: { type: "string" },
      board: { type: "string" },
      trace: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (error) {
  die(`${(error as Error).message} (--help lists the options)`, 2);
}
if (values.help) {
  out(USAGE);
  Deno.exit(0);
}
if (values.processors !== undefined && values.board !== undefined) {
  die("give --processors or --board, not both", 2);
}
if (values.root === "") die("--root is empty", 2);

let processors: ProcessorSpec[];
try {
  if (values.board !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(values.board);
    } catch (error) {
      throw new SimulatorError(
        `cannot read ${values.board}: ${
          error instanceof Deno.errors.NotFound
            ? "no such file"
            : (error as Error).message
        }`,
      );
    }
    processors = parseBoard(text, values.board);
  } else {
    processors = parseProcessors(values.processors ?? "m4");
  }
} catch (error) {
  if (error instanceof SimulatorError) die(error.message, 2);
  throw error;
}
if (values.trace) processors = processors.map((p) => ({ ...p, trace: true }));

let root: string;
try {
  root = values.root !== undefined
    ? resolve(values.root)
    : Deno.makeTempDirSync({ prefix: "remoteproc-sim-" });
} catch (error) {
  die(`cannot make a temporary directory: ${(error as Error).message}`, 1);
}
if (
  Deno.permissions.querySync({ name: "write", path: root }).state !== "granted"
) {
  die(
    `may not write ${root}: the simulator writes only under /tmp (deno.json permission set "demo"); choose a --root there`,
    1,
  );
}
const reused = (() => {
  try {
    return Deno.lstatSync(resolve(root, SIMULATOR_MARK)).isFile;
  } catch {
    return false;
  }
})();

let sim: Simulator;
try {
  sim = await Simulator.create({ root, processors, reset: values.reset });
} catch (error) {
  if (error instanceof SimulatorError) die(error.message, 1);
  if (error instanceof Error) die(`cannot build ${root}: ${error.message}`, 1);
  throw error;
}

const at = sim.root;
// Signals are taken before the simulator says it runs.
let shown = 0;
const timer = setInterval(() => {
  while (shown < sim.events.length) out(sim.events[shown++]!);
}, 100);
const stop = async () => {
  clearInterval(timer);
  await sim.close();
  while (shown < sim.events.length) out(sim.events[shown++]!);
  out(`simulator stopped; ${at} kept`);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

const debugfs = (index: string) => `${at}/sys/kernel/debug/remoteproc/${index}`;
const processorsNow = sim.describe();
out(
  `simulator running under ${at} (${
    reused && !values.reset
      ? "reused: processors keep their state; --reset starts afresh"
      : "new tree"
  })`,
);
for (const p of processorsNow) {
  out(
    `  ${p.index}: ${p.name}, ${p.state}, driver ${p.driver}, compatible ${
      p.compatible.join(" ")
    }, recovery ${p.recovery}${p.trace ? ", trace buffer trace0" : ""}`,
  );
}
out(`try: REMOTEPROC_RUNTIME_SYSROOT=${at} bin/remoteproc-runtime list`);
const first = processorsNow[0]!;
out(`crash ${first.index}: echo 1 > ${debugfs(first.index)}/crash`);
const recovering = processorsNow.filter((p) => p.recovery === "enabled");
if (recovering.length > 0) {
  out(
    `  recovery is enabled on ${
      recovering.map((p) => `${p.index} (${p.name})`).join(", ")
    }: the kernel restarts a crashed core and its container keeps running`,
  );
  const example = recovering[0]!;
  out(
    `  to let a crash stop the container: echo disabled > ${at}/sys/class/remoteproc/${example.index}/recovery`,
  );
} else {
  out("  recovery is disabled everywhere: a crash stops the container");
}
const traced = processorsNow.find((p) => p.trace);
if (traced) {
  out(
    `firmware output on ${traced.index}: echo hello >> ${
      debugfs(traced.index)
    }/trace0`,
  );
}
out("stop with Ctrl-C; the tree stays for the next start");
