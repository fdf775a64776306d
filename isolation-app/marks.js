// Marks the time a call passed a stage, for the e2e bench's profile build: as shipped,
// nothing. The profile build (portcullis-wry's `profile` feature) links its own module
// under this one's name instead (portcullis-wry's js/profile/runtime-marks.js).

/** Records that `entry` (a call's in-flight entry, or the frame's start-up) passed `stage`. */
export const mark = (entry, stage) => {};
