//! `channels` (`web/scenarios/channels.js`): channels from the core in a real webview:
//! JSON and bytes in order, the page closing a channel, a call the hook refuses (its
//! handler never runs), a reload while a handler is still sending.

use std::sync::atomic::Ordering;
use std::time::Duration;

use portcullis::{Args, Channel, ChannelError, Message, Router};
use serde::Deserialize;
use serde_json::json;

use super::Cx;
use crate::{DEFAULTS, Scenario};

pub const CHANNELS: Scenario = Scenario {
    name: "channels",
    reloads: 1,
    audit_codes: &["E_HOOK_REJECTED"],
    audit_names: &[("E_HOOK_REJECTED", "channel.refused")],
    min_checks: 14,
    routes: &[routes],
    ..DEFAULTS
};

/// `channel.ticks`: how many ticks.
#[derive(Deserialize)]
struct Ticks {
    n: u32,
}

/// `channel.bytes`: how many messages of how many bytes.
#[derive(Deserialize)]
struct ChannelBytes {
    count: u32,
    size: usize,
}

/// JSON ticks from a sync handler, bytes from an async one, one that sends until its page
/// closes the channel or goes away, one that sends from a task of its own, one behind a
/// refusing hook, and `harness.channels`, which tells the page what the handlers saw.
fn routes(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .command(
            "channel.ticks",
            |channel: Channel, Args(Ticks { n }): Args<Ticks>| -> Result<u32, ChannelError> {
                for i in 0..n {
                    channel.send_blocking(Message::json(&json!({ "tick": i }))?)?;
                }
                Ok(n)
            },
        )
        .command(
            "channel.bytes",
            |channel: Channel, Args(a): Args<ChannelBytes>| async move {
                for i in 0..a.count {
                    channel.send(vec![(i % 251) as u8; a.size]).await?;
                }
                Ok::<_, ChannelError>(a.count)
            },
        )
        .command("channel.until_closed", {
            let run = run.clone();
            move |channel: Channel| {
                let run = run.clone();
                async move {
                    let mut sent = 0u32;
                    let stopped: Result<u32, ChannelError> = loop {
                        if let Err(e) = channel.send(Message::json(&sent)?).await {
                            run.channel_closed.fetch_add(1, Ordering::SeqCst);
                            break Err(e);
                        }
                        sent += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    };
                    stopped
                }
            }
        })
        // Keeps sending from a task of its own after the call returned, until the channel
        // closes (a reload of its page).
        .command("channel.background", {
            let run = run.clone();
            move |channel: Channel| {
                let run = run.clone();
                tokio::spawn(async move {
                    let mut sent = 0u32;
                    while channel.send_json(&sent).await.is_ok() {
                        sent += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    run.channel_closed.fetch_add(1, Ordering::SeqCst);
                });
                async { "started" }
            }
        })
        .command("channel.refused", {
            let run = run.clone();
            move |_: Channel| {
                run.channel_refused_ran.fetch_add(1, Ordering::SeqCst);
            }
        })
        .command("harness.channels", {
            let run = run.clone();
            move || {
                json!({
                    "closed": run.channel_closed.load(Ordering::SeqCst),
                    "refusedRan": run.channel_refused_ran.load(Ordering::SeqCst),
                })
            }
        })
}
