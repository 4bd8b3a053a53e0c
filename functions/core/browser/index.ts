/**
 * Chromium: each renderer's own small pool of browsers (launched on need, relaunched when one dies,
 * killed when frozen), warm pages reset for each render, every request but the bundled fonts refused,
 * a profile folder per browser; and printing a document into PDF bytes.
 */
export {
  type BrowserPool,
  type ChromiumLocator,
  createBrowserPool,
} from "./browser.ts";
export { printPdf } from "./print.ts";
