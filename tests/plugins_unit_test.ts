import assert from "node:assert/strict";
import { firmwareName, placementProblem } from "../core/firmware/placement.ts";
import { stateMeaning } from "../core/device/processor_state.ts";
import { selectPlugin } from "../plugins/registry.ts";
import { parseProfile, profilePlugin } from "../plugins/profile.ts";
import { ConfigError } from "../core/util/errors.ts";
import type { Device } from "../core/device/sysfs.ts";

function device(over: Partial<Device>): Device {
  return {
    index: "remoteproc0",
    dir: "/x",
    name: "m4",
    driver: undefined,
    compatible: [],
    ...over,
  };
}

Deno.test("selectPlugin picks by driver, by compatible, by annotation, else generic", () => {
  assert.equal(selectPlugin(device({ driver: "imx-dsp-rproc" })).name, "imx");
  assert.equal(
    selectPlugin(device({ compatible: ["st,stm32mp1-m4-tee"] })).name,
    "stm32mp",
  );
  assert.equal(selectPlugin(device({ driver: "k3_r5_rproc" })).name, "ti-k3");
  assert.equal(selectPlugin(device({ driver: "other" })).name, "generic");
  assert.equal(
    selectPlugin(device({ driver: "imx-rproc" }), {
      "remoteproc.plugin": "generic",
    }).name,
    "generic",
  );
  assert.throws(
    () => selectPlugin(device({}), { "remoteproc.plugin": "nope" }),
    /names no plugin: "nope" \(available: imx, stm32mp, ti-k3, generic\)/,
  );
});

Deno.test("firmware names follow the placement and stay plain relative paths", () => {
  const d = { index: "remoteproc2", name: "78400000.r5f" };
  const at = new Date(0);
  assert.equal(
    firmwareName("/r/app.xer5f", {}, d, at, "0a1b2c3d"),
    "app-19700101T000000Z-0a1b2c3d.xer5f",
  );
  assert.equal(
    firmwareName(
      "/r/a b.elf",
      { directory: "imx/dsp", template: "{index}-{device}-{stem}-{rand}{ext}" },
      d,
      at,
      "0a1b2c3d",
    ),
    "imx/dsp/remoteproc2-78400000.r5f-a_b-0a1b2c3d.elf",
  );
  assert.match(
    placementProblem({ directory: "../etc" })!,
    /without \. or \.\./,
  );
  assert.match(placementProblem({ directory: "/abs" })!, /relative path/);
  assert.match(
    placementProblem({ template: "{stem}" })!,
    /must contain \{rand\}/,
  );
  assert.match(
    placementProblem({ template: "{x}{rand}" })!,
    /unknown variable \{x\}/,
  );
  assert.throws(
    () => firmwareName("/r/a", { template: "{stem}" }, d),
    ConfigError,
  );
});

Deno.test("state meanings: the generic table, aliases over it, transient for the rest", () => {
  assert.equal(stateMeaning("running"), "running");
  assert.equal(stateMeaning("attached"), "stopped");
  assert.equal(stateMeaning("crashed"), "crashed");
  assert.equal(stateMeaning("suspended"), "stopped");
  assert.equal(stateMeaning("suspended", { suspended: "running" }), "running");
  assert.equal(stateMeaning("start"), "transient");
  assert.equal(stateMeaning("booting", { booting: "transient" }), "transient");
  assert.equal(stateMeaning("offline", { offline: "nonsense" }), "stopped");
});

Deno.test("a profile matches on every rule it gives, globs included", () => {
  const plugin = profilePlugin(
    parseProfile(
      JSON.stringify({
        name: "acme",
        match: { drivers: ["acme-rproc"], names: ["m7*"] },
      }),
      "acme.json",
    ),
    "acme.json",
  );
  assert.equal(
    plugin.matches(device({ driver: "acme-rproc", name: "m7_0" })),
    true,
  );
  assert.equal(
    plugin.matches(device({ driver: "acme-rproc", name: "m4" })),
    false,
  );
  assert.equal(
    plugin.matches(device({ driver: "other", name: "m7_0" })),
    false,
  );
});

Deno.test("profile errors name the file and the field", () => {
  assert.throws(
    () => parseProfile("{", "p.json"),
    /^ConfigError: plugin profile p\.json: not valid JSON/,
  );
  assert.throws(
    () => parseProfile(JSON.stringify({ name: "x", match: {} }), "p.json"),
    /plugin profile p\.json: field match: give at least one of drivers, compatibles, names/,
  );
  assert.throws(
    () =>
      parseProfile(
        JSON.stringify({
          name: "x",
          match: { names: ["a"] },
          firmware: { template: "{stem}" },
        }),
        "p.json",
      ),
    /field firmware: .*must contain \{rand\}/,
  );
  assert.throws(
    () =>
      parseProfile(
        JSON.stringify({
          name: "x",
          match: { names: ["a"] },
          firmware: { machines: ["Z80"] },
        }),
        "p.json",
      ),
    /field firmware\.machines\.0: unknown machine name "Z80"/,
  );
});
