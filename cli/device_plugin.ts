/**
 * `device-plugin [--kubelet-dir DIR]`: the Kubernetes device plugin
 * (core/device_plugin/server.ts), a long-running verb. It loads the plugin
 * profiles, confines itself (reads: sysfs, the runtime's state and claims;
 * writes: the kubelet directory only), serves and registers until TERM or
 * INT, then removes its sockets and exits 0. Log lines go to stderr (and
 * `--log` with `--debug`).
 *
 * @module
 */
import { parseVerb, type VerbContext } from "./args.ts";
import { confineStage } from "./run.ts";
import { prepareDirs } from "../core/os/confinement.ts";
import { openRuntime } from "../core/runtime.ts";
import { absolute } from "../core/container/paths.ts";
import { ConfigError } from "../core/util/errors.ts";
import { loadPlugins, selectPlugin } from "../plugins/registry.ts";
import {
  DEFAULT_KUBELET_DIR,
  DevicePluginService,
} from "../core/device_plugin/server.ts";
import { devicePluginPlan } from "../core/device_plugin/confine.ts";
import { loadApi } from "../core/device_plugin/proto.ts";

const encoder = new TextEncoder();

/** One log line on stderr. */
function logLine(line: string): void {
  try {
    Deno.stderr.writeSync(
      encoder.encode(`remoteproc-runtime: device-plugin: ${line}\n`),
    );
  } catch {
    // stderr closed
  }
}

/**
 * Runs `device-plugin` until TERM or INT.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values } = parseVerb("device-plugin", args, {
    "kubelet-dir": { type: "string", default: DEFAULT_KUBELET_DIR },
  }, { min: 0, max: 0 });
  const given = values["kubelet-dir"] as string;
  if (given === "") {
    throw new ConfigError("device-plugin: --kubelet-dir cannot be empty");
  }
  const kubeletDir = absolute(given).replace(/(.)\/+$/, "$1");
  try {
    Deno.mkdirSync(kubeletDir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new ConfigError(
      `device-plugin: cannot make the kubelet directory ${kubeletDir}: ${
        (error as Error).message
      }`,
    );
  }
  const rt = openRuntime({ sysroot: globals.sysroot, stateRoot: globals.root });
  const plugins = await loadPlugins(rt.roots.sysroot);
  loadApi();
  // Landlock rules name existing directories only: the claims made later
  // must be readable.
  prepareDirs(rt.roots);
  await confineStage(
    globals,
    devicePluginPlan(rt, kubeletDir, globals.log),
    "device-plugin",
  );
  const service = new DevicePluginService({
    rt,
    pluginFor: (device) => selectPlugin(device, {}, plugins),
    kubeletDir,
    log: logLine,
  });
  // The listeners stay until exit: a second TERM while the sockets are
  // being removed must not kill the process half way.
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      service.stop().then(resolve);
    };
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  });
  logLine(`started: kubelet directory ${kubeletDir}`);
  await service.start();
  await stopped;
  logLine("stopped: sockets removed");
}
