// `window.portcullis` for pages that use the bridge without the module:
// `/// <reference types="@portcullis/api/global" />`, or import "@portcullis/api/global".

import type { Portcullis } from "./index.js";

declare global {
  interface Window {
    /** The Portcullis bridge (frozen, non-writable). */
    readonly portcullis: Portcullis;
  }
}

export {};
