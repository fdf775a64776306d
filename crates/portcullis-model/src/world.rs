//! The model's world: what the actors did and what the core answered, as plain data the
//! checker can hash and compare. Nothing here decides anything; the real core does
//! ([`crate::core`]), and this records its answers.

use portcullis_core::ErrorCode;

/// The labels of the model's two webviews; a [`Load`]'s `webview` indexes this.
pub const LABELS: [&str; 2] = ["a", "b"];

/// A page load: its webview and its number among that webview's loads (0 is the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Load {
    /// The webview, an index into [`LABELS`].
    pub webview: u8,
    /// Which of the webview's page loads.
    pub n: u8,
}

/// The commands the model's page loads call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `notes.list`: allowed by a static capability.
    List,
    /// `notes.export`: allowed only while the app holds the run-time grant of `export`
    /// for webview `a`.
    Export,
}

impl Command {
    /// The command's name in the config.
    pub fn name(self) -> &'static str {
        match self {
            Command::List => "notes.list",
            Command::Export => "notes.export",
        }
    }
}

/// What an isolation frame seals: one step of its page load's script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum What {
    /// A call of `command` with request id `id`.
    Call {
        /// The request id (page loads reuse ids: ids name calls per page load).
        id: u8,
        /// What it calls.
        command: Command,
    },
    /// A cancel of the page load's call `id`.
    Cancel {
        /// The call it names.
        id: u8,
    },
    /// The open of the upload stream `id`.
    Open {
        /// The stream's id (its open's request id).
        id: u8,
    },
    /// Data chunk `number` of stream `stream`, one byte.
    Data {
        /// The stream.
        stream: u8,
        /// The chunk's number.
        number: u8,
        /// Its one byte of data.
        byte: u8,
    },
    /// The end of stream `stream`, as chunk `number`.
    End {
        /// The stream.
        stream: u8,
        /// The chunk's number.
        number: u8,
    },
}

impl What {
    /// Whether it is a stream chunk (data or end).
    pub fn is_chunk(self) -> bool {
        matches!(self, What::Data { .. } | What::End { .. })
    }
}

/// What the core answered to one delivery of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fate {
    /// The webview the bytes arrived from (an index into [`LABELS`]).
    pub to: u8,
    /// Whether the message's page load was its webview's current one at delivery.
    pub live: bool,
    /// Whether the app held the run-time grant when the message arrived.
    pub granted: bool,
    /// Admitted by the gate (a call, cancel or chunk let past), or its code.
    pub result: Result<(), ErrorCode>,
}

/// A message the isolation frame sealed, and every delivery of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Msg {
    /// The page load whose frame sealed it.
    pub load: Load,
    /// What it says.
    pub what: What,
    /// Its deliveries, in order.
    pub fates: Vec<Fate>,
}

impl Msg {
    /// Whether it was delivered to its own webview yet (the legitimate transport).
    pub fn delivered_home(&self) -> bool {
        self.fates.iter().any(|f| f.to == self.load.webview)
    }
}

/// Where a call the gate admitted is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Admitted, not yet dispatched (a revoke may come in between).
    Admitted,
    /// Dispatched: its handler's work is waiting to run, or, for a stream, running.
    Running,
    /// Answered: its response's result.
    Answered(Result<(), ErrorCode>),
}

/// A call (or stream open) the gate admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Call {
    /// The message it came in, an index into [`World::msgs`].
    pub msg: u8,
    /// Where it is.
    pub phase: Phase,
}

/// What the core holds, observed after every step through its public counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Held {
    /// Live sessions in the session table.
    pub sessions: u8,
    /// Calls in the router's in-flight table.
    pub in_flight: u8,
    /// Chunk bytes the streams hold for each webview.
    pub stream_bytes: [u16; 2],
    /// Open streams.
    pub streams: u8,
}

/// What one stream handler read from its `Upload`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Read {
    /// The stream's call, an index into [`World::calls`].
    pub call: u8,
    /// The bytes read, in the order read.
    pub bytes: Vec<u8>,
    /// `None` while reading; then whether the reading ended cleanly (`Ok`) or with an
    /// error.
    pub end: Option<Result<(), ()>>,
}

/// One action of one actor: the checker chooses among the enabled ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The isolation frame of the webview's current page load seals its script's next step.
    Seal(u8),
    /// The network (or the attacker) hands message `msg` to the core as arriving from
    /// webview `to`: in order, late, again, or from the other webview.
    Deliver {
        /// The message, an index into [`World::msgs`].
        msg: u8,
        /// The webview it arrives from.
        to: u8,
    },
    /// The attacker delivers the header of one message with the body of another, from
    /// the header's webview.
    Splice {
        /// Whose header.
        head: u8,
        /// Whose body (sealed data and tag).
        body: u8,
    },
    /// The attacker seals a call under a key it made up, for the webview's live session
    /// id (which every header shows) at the frame's next sequence number.
    Forge(u8),
    /// The webview loads a new page: the old page load ends, with its frame.
    Reload(u8),
    /// The app revokes webview `a`'s run-time grant of `export`.
    Revoke,
    /// The app grants it again.
    Grant,
    /// The embedder dispatches admitted call `n` (an index into [`World::calls`]).
    Dispatch(u8),
    /// The embedder runs call `n`'s handler to its end and answers it (a stream's handler
    /// takes one step instead, see [`Action::Read`]).
    Finish(u8),
    /// Stream call `n`'s handler reads what is there from its `Upload`.
    Read(u8),
}

/// What the checker explores: the actors' history and the core's answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct World {
    /// Page loads begun per webview (the current one is the last).
    pub loads: [u8; 2],
    /// Script steps the current page load of each webview has sealed.
    pub sealed: [u8; 2],
    /// Every message a frame sealed, in the order sealed.
    pub msgs: Vec<Msg>,
    /// The fates of the attacker's own messages (spliced, forged).
    pub injected: Vec<Fate>,
    /// Every call the gate admitted, in order.
    pub calls: Vec<Call>,
    /// Whether the app holds webview `a`'s grant of `export` (as of its last change
    /// returning).
    pub granted: bool,
    /// Grant changes the app made.
    pub grant_changes: u8,
    /// Attacker actions spent: deliveries other than a message's first to its own
    /// webview, splices, forgeries.
    pub spent: u8,
    /// `notes.export` handler runs that began while the grant was revoked.
    pub late_starts: u8,
    /// Calls a cancel stopped that were not the cancel's own page load's call of its id.
    pub foreign_cancels: u8,
    /// What each stream handler read from its `Upload`.
    pub uploads: Vec<Read>,
    /// The answers chunks got, in the order given: the chunk's message and its result
    /// (an answer may come later than its delivery, when the handler reads).
    pub chunk_answers: Vec<(u8, Result<(), ErrorCode>)>,
    /// What the core holds after the last step.
    pub held: Held,
}

impl World {
    /// The current page load of webview `w`.
    pub fn current(&self, w: u8) -> Load {
        Load {
            webview: w,
            n: self.loads[usize::from(w)].saturating_sub(1),
        }
    }

    /// Whether `load` is its webview's current page load.
    pub fn is_live(&self, load: Load) -> bool {
        self.current(load.webview) == load
    }
}
