/**
 * The simulator's command line (sim/main.ts) run as a user runs it, for
 * tests: started as its own process under the `demo` permission set,
 * read until it is ready, stopped with SIGTERM.
 *
 * @module
 */
import { fromFileUrl } from "./paths.ts";

const PROJECT = fromFileUrl(new URL("../..", import.meta.url));
const MAIN = fromFileUrl(new URL("../../sim/main.ts", import.meta.url));
/** The last line the simulator prints before it answers writes. */
const READY = "stop with Ctrl-C";

/** A simulator process. */
export interface SimProcess {
  /** What it printed on stdout up to the ready line, or until it exited. */
  out: string;
  /** Its exit code when it exited on its own (an error), else undefined. */
  code: number | undefined;
  /** Its stderr when it exited on its own. */
  err: string;
  /** SIGTERM, then everything it printed and its exit code. */
  stop(): Promise<{ out: string; code: number }>;
}

/**
 * Starts `sim/main.ts ARGS` and waits until it is ready or has exited (or
 * kills it after a minute).
 *
 * @param args Command-line arguments.
 * @param env Extra environment.
 * @returns The running (or failed) simulator.
 */
export async function startSim(
  args: string[],
  env: Record<string, string> = {},
): Promise<SimProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "-P=demo",
      `--config=${PROJECT}/deno.json`,
      MAIN,
      ...args,
    ],
    env: { NO_COLOR: "1", ...env },
    cwd: PROJECT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let out = "";
  const reader = child.stdout.getReader();
  const errText = new Response(child.stderr).text();
  let ended = false;
  // A simulator that never says it is ready is killed, not waited for.
  const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
  while (!out.includes(READY)) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    out += decoder.decode(value, { stream: true });
  }
  clearTimeout(deadline);
  if (ended) {
    const status = await child.status;
    return {
      out,
      code: status.code,
      err: await errText,
      stop: () => Promise.resolve({ out, code: status.code }),
    };
  }
  return {
    out,
    code: undefined,
    err: "",
    async stop() {
      child.kill("SIGTERM");
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += decoder.decode(value, { stream: true });
      }
      await errText;
      return { out: out + rest, code: (await child.status).code };
    },
  };
}
