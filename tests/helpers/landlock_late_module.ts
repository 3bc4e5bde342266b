/** Imported by `landlock_confined.ts` only after it confined itself. */
export const lateValue = "loaded after confinement";
