// The restore scenario, with the webview built in the window's GTK box
// (Portcullis::build_webview_gtk): that way of building one must protect it the same.
export { default } from "./restore.js";
