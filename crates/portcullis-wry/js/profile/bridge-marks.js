// The bridge's marks in the e2e bench's profile build (portcullis-wry's `profile`
// feature). The build runs this script between the bridge's config and the bridge, and
// it hands the bridge its `mark` function in the config: the bridge's own stages, and the
// frame's from the reply, added up per stage in a global the bench page reads and resets
// (`__portcullis_profile__.totals`: stage -> [total ms, calls]); the frame's creation and
// readiness (`startup`), and the first call's marks (`first`), as absolute times.
// Bench-only: it exposes `__portcullis_profile__` to the page.

(() => {
  "use strict";
  const profile = (globalThis.__portcullis_profile__ = { totals: {}, reset() { this.totals = {}; } });
  const add = (stage, ms) => { const t = (profile.totals[stage] ??= [0, 0]); t[0] += ms; t[1] += 1; };
  globalThis.__PORTCULLIS_CONFIG__.mark = (call, stage, reply) => {
    const now = performance.timeOrigin + performance.now();
    if (call === null) { profile.startup ??= []; profile.startup.push(stage, now); return; }
    if (stage === "post") { call.posted = now; return; }
    if (stage === "reply") {
      call.replied = now;
      const hops = reply && reply.hops;
      if (!hops || call.posted === undefined) return;
      // The first call laid out on one line with the frame's start-up (absolute times).
      profile.first ??= { posted: call.posted, replied: now, hops, boot: reply.boot };
      for (let i = 2; i < hops.length; i += 2) add(`frame: ${hops[i]}`, hops[i + 1] - hops[i - 1]);
      add("window messages, both ways", now - call.posted - (hops[hops.length - 1] - hops[1]));
      add("bridge: post to reply", now - call.posted);
      return;
    }
    if (stage === "settled" && call.replied !== undefined) add("bridge: settle", now - call.replied);
  };
})();
