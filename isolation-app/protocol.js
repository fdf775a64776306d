// The protocol's constants, as Rust defines them (portcullis-wry's src/protocol.rs, from
// portcullis_core::wire::constants): the isolation app's modules import them from here,
// and the bridge gets the same object in its config.
//
// Written by Rust, which serves this text to the webview: do not edit. A test fails when
// this file differs from what Rust writes; to write it again, run
// `PORTCULLIS_BLESS=1 cargo test -p portcullis-wry --lib protocol`.
export const PROTOCOL = {
  "bodyTypes": {
    "bytes": 1,
    "json": 0
  },
  "channelFrames": {
    "bytes": 2,
    "end": 3,
    "json": 1
  },
  "channelPrefix": "portcullis:channel:",
  "chunkOps": {
    "abort": 2,
    "data": 0,
    "end": 1
  },
  "envelope": {
    "chunkFlag": 1,
    "chunkHeaderLen": 56,
    "headerLen": 40,
    "magic": [
      80,
      67
    ],
    "nonceLen": 12,
    "tagLen": 16,
    "version": 1
  },
  "kinds": {
    "cancel": 4,
    "chunk": 6,
    "command": 1,
    "event": 2,
    "report": 3,
    "stream": 5
  },
  "maxReason": 512,
  "maxReportMessage": 512,
  "names": {
    "cancel": "portcullis.cancel",
    "chunk": "portcullis.chunk",
    "report": "portcullis.report"
  },
  "prefixLen": 12,
  "streamWindow": 4,
  "transport": {
    "bodyHeader": "portcullis-body",
    "channelUrl": "ipc://localhost/__portcullis/channel",
    "ipcUrl": "ipc://localhost/",
    "nativeHandler": "portcullisIpc",
    "replyHeader": "portcullis-reply"
  }
};
