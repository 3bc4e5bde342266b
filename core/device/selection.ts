/**
 * Which processor a container asks for. Kubernetes has pod annotations, not
 * container annotations, and containerd copies the pod's annotations that
 * the handler's `pod_annotations` lists (`remoteproc.*`) into every
 * container's spec, under the container's own; so the runtime looks, in
 * this order, at:
 *
 * 0. `remoteproc.allocated`, set by the Kubernetes device plugin's
 *    `Allocate` (core/device_plugin/): the processor the kubelet allocated
 *    wins over any name a pod gives;
 * 1. the container's own `remoteproc.name` annotation;
 * 2. the pod annotation `remoteproc.name.<container-name>`, the container
 *    named by `io.kubernetes.cri.container-name`;
 * 3. the pod-wide `remoteproc.name`;
 * 4. `REMOTEPROC_NAME` in `process.env` (any engine; the environment is
 *    never handed to the firmware).
 *
 * In a CRI container's spec both the container's own `remoteproc.name` and
 * the pod's arrive under the same key: the pod's value is read from the
 * pod's sandbox placeholder (core/ops/sandbox.ts), and a value equal to it, or
 * any value when the sandbox is not known here, counts as the pod's.
 *
 * The selectors are one ordered list ({@linkcode SELECTORS}): a new source
 * is one more entry where it ranks.
 *
 * @module
 */
import {
  ALLOCATED_ANNOTATION,
  CONTAINER_NAME_ANNOTATION,
  NAME_ANNOTATION,
} from "../container/annotations.ts";

/** The environment variable naming the processor. */
export const NAME_ENV = "REMOTEPROC_NAME";

/** What a container's spec says, as the selectors read it. */
export interface SelectionInput {
  /** The container's annotations (the pod's passed-through ones included). */
  annotations: Readonly<Record<string, string>>;
  /** `process.env` entries, `KEY=value`. */
  env: readonly string[];
  /** The pod's annotations, when its sandbox is known. */
  pod?: Readonly<Record<string, string>> | undefined;
}

/** A place a processor name can be given. */
export interface Place {
  /** The annotation key or variable name: `remoteproc.name.fw-a`. */
  key: string;
  /** The place in words: `pod annotation remoteproc.name`. */
  text: string;
}

/** A processor name and where it was found. */
export interface Selection extends Place {
  /** The name as given (`m4`, `remoteproc2`). */
  name: string;
}

/** One place a processor name may come from. */
export interface Selector {
  /**
   * Where it looks; undefined when it does not apply to this container (a
   * per-container key needs a container name).
   */
  place(input: SelectionInput): Place | undefined;
  /** The name it finds, if any. */
  pick(input: SelectionInput): string | undefined;
}

/** The CRI container name, when the engine gives one. */
function containerName(input: SelectionInput): string | undefined {
  return input.annotations[CONTAINER_NAME_ANNOTATION] || undefined;
}

/**
 * Whether `remoteproc.name` in the spec is the pod's rather than the
 * container's own.
 */
function isPodsName(input: SelectionInput): boolean {
  if (containerName(input) === undefined) return false; // no pod at all
  if (input.pod === undefined) return true;
  return input.pod[NAME_ANNOTATION] === input.annotations[NAME_ANNOTATION];
}

/** The per-container pod annotation's key, for a CRI container. */
function perContainerKey(input: SelectionInput): string | undefined {
  const name = containerName(input);
  return name === undefined ? undefined : `${NAME_ANNOTATION}.${name}`;
}

/** The selectors, highest precedence first. */
export const SELECTORS: readonly Selector[] = [
  {
    // Named in messages only where set: only the device plugin sets it.
    place: (input) =>
      input.annotations[ALLOCATED_ANNOTATION] === undefined ? undefined : {
        key: ALLOCATED_ANNOTATION,
        text: `annotation ${ALLOCATED_ANNOTATION}`,
      },
    pick: (input) => input.annotations[ALLOCATED_ANNOTATION],
  },
  {
    place: () => ({
      key: NAME_ANNOTATION,
      text: `annotation ${NAME_ANNOTATION}`,
    }),
    pick: (input) =>
      isPodsName(input) ? undefined : input.annotations[NAME_ANNOTATION],
  },
  {
    place: (input) => {
      const key = perContainerKey(input);
      return key === undefined ? undefined : { key, text: `annotation ${key}` };
    },
    pick: (input) => {
      const key = perContainerKey(input);
      return key === undefined ? undefined : input.annotations[key];
    },
  },
  {
    place: (input) =>
      containerName(input) === undefined ? undefined : {
        key: NAME_ANNOTATION,
        text: `pod annotation ${NAME_ANNOTATION}`,
      },
    pick: (input) =>
      isPodsName(input) ? input.annotations[NAME_ANNOTATION] : undefined,
  },
  {
    place: () => ({ key: NAME_ENV, text: `${NAME_ENV} in process.env` }),
    pick: (input) => envValue(input.env, NAME_ENV),
  },
];

/**
 * The processor a container asks for: the first selector that finds a
 * name.
 *
 * @example A pod annotation for one container beats the pod-wide one
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectProcessor } from "./selection.ts";
 *
 * const pick = selectProcessor({
 *   annotations: {
 *     "io.kubernetes.cri.container-name": "dsp-fw",
 *     "remoteproc.name": "m4",
 *     "remoteproc.name.dsp-fw": "dsp",
 *   },
 *   env: [],
 *   pod: { "remoteproc.name": "m4", "remoteproc.name.dsp-fw": "dsp" },
 * });
 * assert.deepEqual(pick, {
 *   name: "dsp",
 *   key: "remoteproc.name.dsp-fw",
 *   text: "annotation remoteproc.name.dsp-fw",
 * });
 * ```
 *
 * @param input The container's annotations, environment and pod.
 * @param selectors The selectors, highest precedence first.
 * @returns The name and where it was found, or undefined.
 */
export function selectProcessor(
  input: SelectionInput,
  selectors: readonly Selector[] = SELECTORS,
): Selection | undefined {
  for (const selector of selectors) {
    const name = selector.pick(input);
    if (name !== undefined) return { name, ...selector.place(input)! };
  }
  return undefined;
}

/**
 * Where the selectors look for this container, for the message when none
 * finds a name: `annotation remoteproc.name, annotation
 * remoteproc.name.fw-a, pod annotation remoteproc.name and REMOTEPROC_NAME
 * in process.env`.
 *
 * @param input The container's annotations, environment and pod.
 * @param selectors The selectors.
 * @returns The places, in order, joined for a sentence.
 */
export function placesLooked(
  input: SelectionInput,
  selectors: readonly Selector[] = SELECTORS,
): string {
  const places = [
    ...new Set(
      selectors.map((s) => s.place(input)?.text).filter((
        text,
      ): text is string => text !== undefined),
    ),
  ];
  return places.length < 2
    ? places.join("")
    : `${places.slice(0, -1).join(", ")} and ${places.at(-1)}`;
}

/** The last `KEY=value` for `key` (later entries win, as engines merge them). */
function envValue(env: readonly string[], key: string): string | undefined {
  let value: string | undefined;
  for (const entry of env) {
    if (entry.startsWith(`${key}=`)) value = entry.slice(key.length + 1);
  }
  return value;
}
