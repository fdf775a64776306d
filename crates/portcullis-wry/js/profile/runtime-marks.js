// The isolation runtime's marks in the e2e bench's profile build (portcullis-wry's
// `profile` feature), linked under the name of isolation-app/marks.js in its place:
// stage names and times on the call's entry (or the frame's start-up), which the runtime
// sends back with its reply. The times are absolute (`timeOrigin` + `now()`), so the
// first call can be laid out on one line with the main frame's; within a frame,
// differences are as fine as `now()` itself.

/** Records that `entry` (a call's in-flight entry, or the frame's start-up) passed `stage`. */
export const mark = (entry, stage) => {
  const hops = (entry.hops ??= []);
  if (stage === "runtime started") {
    // The frame document's own load, from its navigation timing.
    hops.push("navigation started", performance.timeOrigin);
    const nav = performance.getEntriesByType("navigation")[0];
    for (const k of ["responseStart", "responseEnd", "domInteractive"]) if (nav) hops.push(`document ${k}`, performance.timeOrigin + nav[k]);
  }
  hops.push(stage, performance.timeOrigin + performance.now());
};
