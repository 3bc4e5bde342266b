/** Version of remoteproc-runtime. */
export const VERSION = "0.1.0";
/** OCI runtime spec version whose state and features documents are produced. */
export const SPEC_VERSION = "1.2.0";
