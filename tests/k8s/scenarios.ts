/**
 * The CRI tier's scenarios: the test plays the kubelet against containerd's
 * CRI server (started by tests/k8s/run.sh, which sets the RPRT_K8S_*
 * variables), with bin/remoteproc-runtime as the runtime handler
 * `remoteproc`, and checks the CRI answers and the simulator.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connectCri } from "./cri_client.ts";

function setting(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run tests/k8s/run.sh`);
  return value;
}

Deno.test("containerd's CRI server answers and knows both images", async () => {
  const cri = connectCri(setting("RPRT_K8S_SOCKET"));
  try {
    const version = await cri.version();
    assert.equal(version.runtime_name, "containerd");
    assert.match(
      (await cri.imageId(setting("RPRT_K8S_FW_IMAGE"))) ?? "",
      /^sha256:/,
    );
    assert.match(
      (await cri.imageId(setting("RPRT_K8S_PAUSE_IMAGE"))) ?? "",
      /^sha256:/,
    );
  } finally {
    cri.close();
  }
});
