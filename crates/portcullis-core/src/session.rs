//! Sessions: one key per webview page load.
//!
//! When a webview loads a page, the embedder asks the [`SessionTable`] for a session
//! bound to that webview's label and the page's origin. The table draws a 16-byte id and
//! a 256-bit key from the operating system's CSPRNG, keeps the expanded key and a replay
//! window, and hands the raw key out exactly once, inside a [`PageKey`], for delivery to
//! that page load's isolation frame. A new page load in the same webview (reload,
//! navigation) revokes the previous session; so does closing the webview.
//!
//! For every sealed message the table answers one question ([`SessionTable::open`]): is
//! this from a live session of the webview and origin the embedder attests, fresh, and
//! authentic? It asks the [`crate::replay`] window whether the sequence number is fresh,
//! opens the ciphertext under the session's [`crate::aead`] key with the label bound in
//! the associated data, then records the number. Its errors are its own
//! ([`SessionError`]), each with its code.
//!
//! Raw key bytes live only in the grant, are zeroized when it drops, and never appear in
//! `Debug` output or logs.

use std::collections::{HashSet, VecDeque};

use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use rand::TryRng as _;
use zeroize::Zeroize;

use crate::FastMap;
use crate::aead::{AeadBackend, KEY_LEN, OpeningKey};
use crate::envelope::{MAX_LABEL_LEN, SESSION_ID_LEN, Sealed, SessionId, nonce_for, with_aad};
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::replay::{ReplayError, ReplayWindow};
use crate::seal::Sealer;

/// How many revoked session ids are remembered, to answer `E_SESSION_REVOKED` rather than
/// `E_UNKNOWN_SESSION` for messages that were in flight during a reload.
const REVOKED_MEMORY: usize = 4096;

/// A live session. Shared by the table and the gate while a message is in flight.
pub struct Session {
    /// Public id, carried in every envelope.
    pub id: SessionId,
    /// The webview label the session was issued to.
    pub label: Arc<str>,
    /// The origin of the page load the session was issued to.
    pub origin: Arc<Origin>,
    key: Box<dyn OpeningKey>,
    window: Mutex<ReplayWindow>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("origin", &self.origin.to_string())
            .finish_non_exhaustive()
    }
}

/// The raw key of a fresh session, to be delivered once to its isolation frame.
///
/// Zeroized on drop. `Debug` shows the session, never the key.
pub struct PageKey {
    session: SessionId,
    label: String,
    key: RawKey,
    backend: &'static dyn AeadBackend,
}

/// The raw key bytes of a session: on the heap (moves leave no copies behind), zeroized
/// on drop, never printed.
pub struct RawKey(Box<[u8; KEY_LEN]>);

impl RawKey {
    fn zeroed() -> Self {
        RawKey(Box::new([0u8; KEY_LEN]))
    }
}

impl std::ops::Deref for RawKey {
    type Target = [u8; KEY_LEN];
    fn deref(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for RawKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawKey(<redacted>)")
    }
}

impl fmt::Debug for PageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageKey")
            .field("session", &self.session)
            .field("label", &self.label)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl PageKey {
    /// The session this key belongs to.
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The webview label the session is bound to.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The raw key, for the one place that hands it to the isolation frame. Consumes the
    /// grant: a key goes to exactly one sealer, so its nonces never repeat. Whatever the
    /// caller copies it into must be zeroized too.
    pub fn into_isolation_key(self) -> RawKey {
        self.key
    }

    /// A Rust-side sealer for this session (tests, benches, native clients), instead of
    /// the isolation frame. Consumes the grant: a session has one sealer.
    pub fn into_sealer(self) -> Sealer {
        let key = self.backend.sealing_key(&self.key);
        let (session, label) = (self.session, self.label);
        // The table refused labels too long to bind when it issued the grant.
        Sealer::new(key, session, label).unwrap_or_else(|| unreachable!("label checked at issue"))
    }
}

/// The facts about a message that the embedder, not the page, vouches for.
#[derive(Clone, Copy, Debug)]
pub struct Attested<'a> {
    /// The label of the webview the bytes arrived from.
    pub webview: &'a str,
    /// The origin of the page currently loaded in that webview.
    pub origin: &'a Origin,
}

/// Why a sealed message was not opened: the documented reasons, each with its code.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The id was never issued here (or was forgotten long ago): `E_UNKNOWN_SESSION`.
    Unknown,
    /// The id was issued and has since been revoked: `E_SESSION_REVOKED`.
    Revoked,
    /// The session belongs to another webview than the one the message came from
    /// (named here): `E_WRONG_WEBVIEW`.
    WrongWebview(String),
    /// The webview is no longer at the origin the session was issued to:
    /// `E_ORIGIN_MISMATCH`.
    OriginMismatch {
        /// The origin the session was issued to.
        issued: String,
        /// The webview's origin now.
        now: String,
    },
    /// The sequence number is not fresh (the replay window's reason).
    Replay(ReplayError),
    /// The ciphertext did not open under the session's key with this webview's label:
    /// `E_TAMPERED`.
    Tampered,
}

impl From<ReplayError> for SessionError {
    fn from(e: ReplayError) -> Self {
        SessionError::Replay(e)
    }
}

impl From<SessionError> for Rejection {
    fn from(e: SessionError) -> Rejection {
        match e {
            SessionError::Unknown => Rejection::new(
                ErrorCode::UnknownSession,
                "no such session: the message was not sealed by this app's isolation frame",
            ),
            SessionError::Revoked => Rejection::new(
                ErrorCode::SessionRevoked,
                "session revoked: the page was reloaded, navigated or closed; retry from the new page",
            ),
            SessionError::WrongWebview(from) => Rejection::new(
                ErrorCode::WrongWebview,
                format!("message sealed for another webview arrived from webview {from:?}"),
            ),
            SessionError::OriginMismatch { issued, now } => Rejection::new(
                ErrorCode::OriginMismatch,
                format!("session was issued to {issued} but the webview is now at {now}"),
            ),
            SessionError::Replay(e) => e.into(),
            SessionError::Tampered => Rejection::new(
                ErrorCode::Tampered,
                "authentication failed: the message was altered or not sealed with this session's key",
            ),
        }
    }
}

/// An authentic plaintext from a live session of the attested webview and origin, its
/// sequence number recorded: what [`SessionTable::open`] returns, for the request step.
pub struct Unsealed {
    /// The session it was sealed in.
    pub session: Arc<Session>,
    /// Its sequence number.
    pub seq: u64,
    /// For a stream chunk, its stream and number (authenticated).
    pub chunk: Option<crate::envelope::ChunkAt>,
    /// From `start` on: the plaintext request (or a chunk's operation and data).
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
}

#[derive(Default)]
struct Tables {
    live: FastMap<SessionId, Arc<Session>>,
    by_label: FastMap<String, SessionId>,
    revoked: HashSet<SessionId>,
    revoked_order: VecDeque<SessionId>,
}

impl Tables {
    fn revoke(&mut self, id: SessionId) {
        if self.live.remove(&id).is_none() {
            return;
        }
        if self.revoked_order.len() == REVOKED_MEMORY
            && let Some(old) = self.revoked_order.pop_front()
        {
            self.revoked.remove(&old);
        }
        self.revoked.insert(id);
        self.revoked_order.push_back(id);
    }
}

/// All sessions of one app.
pub struct SessionTable {
    backend: &'static dyn AeadBackend,
    window_size: u32,
    tables: RwLock<Tables>,
}

impl fmt::Debug for SessionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = self.tables.read().map(|t| t.live.len()).unwrap_or(0);
        f.debug_struct("SessionTable")
            .field("backend", &self.backend.name())
            .field("window_size", &self.window_size)
            .field("live", &live)
            .finish()
    }
}

impl SessionTable {
    /// An empty table whose sessions use `backend` and replay windows of `window_size`.
    pub fn new(backend: &'static dyn AeadBackend, window_size: u32) -> Self {
        SessionTable {
            backend,
            window_size,
            tables: RwLock::new(Tables::default()),
        }
    }

    /// Starts a session for a new page load of webview `label` at `origin`, revoking the
    /// webview's previous session. Fails only if the OS random source fails or the label
    /// is too long to bind.
    pub fn begin_page_load(&self, label: &str, origin: Origin) -> Result<PageKey, Rejection> {
        if label.len() > MAX_LABEL_LEN {
            return Err(Rejection::new(
                ErrorCode::Internal,
                format!("webview label longer than {MAX_LABEL_LEN} bytes"),
            ));
        }
        let mut key = RawKey::zeroed();
        let mut id = [0u8; SESSION_ID_LEN];
        let mut os = rand::rngs::SysRng;
        os.try_fill_bytes(&mut key.0[..])
            .and_then(|()| os.try_fill_bytes(&mut id))
            .map_err(|e| Rejection::new(ErrorCode::Internal, format!("OS random source: {e}")))?;
        let id = SessionId(id);
        let session = Arc::new(Session {
            id,
            label: Arc::from(label),
            origin: Arc::new(origin),
            key: self.backend.opening_key(&key),
            window: Mutex::new(ReplayWindow::new(self.window_size)),
        });
        let mut t = self.write();
        if let Some(old) = t.by_label.insert(label.to_owned(), id) {
            t.revoke(old);
        }
        t.live.insert(id, session);
        tracing::debug!(target: "portcullis::session", webview = label, session = %id, "session issued");
        Ok(PageKey {
            session: id,
            label: label.to_owned(),
            key,
            backend: self.backend,
        })
    }

    /// Revokes the current session of webview `label` (closed, or navigating away before
    /// the next page load). Returns whether there was one.
    pub fn end_webview(&self, label: &str) -> bool {
        let mut t = self.write();
        match t.by_label.remove(label) {
            Some(id) => {
                t.revoke(id);
                tracing::debug!(target: "portcullis::session", webview = label, session = %id, "session revoked");
                true
            }
            None => false,
        }
    }

    /// The live session with this id.
    pub fn get(&self, id: &SessionId) -> Result<Arc<Session>, SessionError> {
        let t = self.read();
        match t.live.get(id) {
            Some(s) => Ok(Arc::clone(s)),
            None if t.revoked.contains(id) => Err(SessionError::Revoked),
            None => Err(SessionError::Unknown),
        }
    }

    /// Opens `sealed` for the webview and origin the embedder attests: the session must
    /// be live and theirs, the sequence number fresh (checked before decrypting, recorded
    /// only once the tag verified, so a forgery never moves the window), and the
    /// ciphertext authentic under the session key with the webview's label bound in.
    pub fn open(&self, sealed: Sealed, facts: Attested<'_>) -> Result<Unsealed, SessionError> {
        let session = self.get(&sealed.session)?;
        if *session.label != *facts.webview {
            return Err(SessionError::WrongWebview(facts.webview.to_owned()));
        }
        if *session.origin != *facts.origin {
            return Err(SessionError::OriginMismatch {
                issued: session.origin.to_string(),
                now: facts.origin.to_string(),
            });
        }
        let seq = sealed.seq;
        lock(&session.window).check(seq)?;
        let (mut buf, start, chunk) = (sealed.body, sealed.start, sealed.chunk);
        // The attested label, not the session's: the same after the check above, and
        // what makes a moved message fail authentication should that check ever go.
        let opened = with_aad(&session.id, seq, chunk.as_ref(), facts.webview, |aad| {
            session
                .key
                .open_in_place(nonce_for(seq), aad, &mut buf[start..])
                .map(|plain| plain.len())
        });
        let Some(Ok(plain_len)) = opened else {
            return Err(SessionError::Tampered);
        };
        // Re-checked under the lock: of two copies opened concurrently, one wins.
        lock(&session.window).accept(seq)?;
        buf.truncate(start + plain_len);
        Ok(Unsealed {
            session,
            seq,
            chunk,
            buf,
            start,
        })
    }

    /// The id of the live session of webview `label`, if any.
    pub fn current(&self, label: &str) -> Option<SessionId> {
        self.read().by_label.get(label).copied()
    }

    /// Number of live sessions.
    pub fn live_count(&self) -> usize {
        self.read().live.len()
    }

    // A poisoned lock means a panic while holding it; the tables are only mutated by
    // the few lines above, which do not panic, so recover the data rather than cascade.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(|p| p.into_inner())
    }
}

// A poisoned window lock means a panic while holding it; `ReplayWindow` methods do not
// panic, so the data is intact: recover it rather than cascade.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aead::default_backend;

    fn table() -> SessionTable {
        SessionTable::new(default_backend(), 64)
    }

    fn app() -> Origin {
        Origin::parse("app://localhost").unwrap()
    }

    #[test]
    fn each_page_load_gets_a_fresh_id_and_key() {
        let t = table();
        let a = t.begin_page_load("main", app()).unwrap();
        let b = t.begin_page_load("other", app()).unwrap();
        assert_ne!(a.session(), b.session());
        let (a, b) = (a.into_isolation_key(), b.into_isolation_key());
        assert_ne!(*a, *b);
        assert_ne!(*a, [0u8; KEY_LEN]);
        assert_eq!(t.live_count(), 2);
    }

    #[test]
    fn reload_revokes_the_previous_session_of_that_webview_only() {
        let t = table();
        let first = t.begin_page_load("main", app()).unwrap().session();
        let other = t.begin_page_load("other", app()).unwrap().session();
        let second = t.begin_page_load("main", app()).unwrap().session();
        assert_eq!(t.get(&first).unwrap_err(), SessionError::Revoked);
        assert!(t.get(&second).is_ok());
        assert!(t.get(&other).is_ok());
        assert_eq!(t.current("main"), Some(second));
    }

    #[test]
    fn closing_a_webview_revokes_its_session() {
        let t = table();
        let id = t.begin_page_load("main", app()).unwrap().session();
        assert!(t.end_webview("main"));
        assert!(!t.end_webview("main"));
        assert_eq!(t.get(&id).unwrap_err(), SessionError::Revoked);
        assert_eq!(t.current("main"), None);
    }

    #[test]
    fn unknown_ids_are_unknown() {
        assert_eq!(
            table().get(&SessionId([0; 16])).unwrap_err(),
            SessionError::Unknown
        );
    }

    #[test]
    fn revoked_memory_is_bounded() {
        let t = table();
        let first = t.begin_page_load("main", app()).unwrap().session();
        for _ in 0..REVOKED_MEMORY + 1 {
            t.begin_page_load("main", app()).unwrap();
        }
        assert_eq!(t.get(&first).unwrap_err(), SessionError::Unknown);
        assert!(t.read().revoked.len() <= REVOKED_MEMORY);
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let t = table();
        let grant = t.begin_page_load("main", app()).unwrap();
        let shown = format!("{grant:?} {:?} {t:?}", t.get(&grant.session()).unwrap());
        let key = *grant.into_isolation_key();
        assert!(shown.contains("<redacted>"));
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&hex));
        assert!(!shown.contains(&format!("{:?}", &key[..4])));
    }

    #[test]
    fn label_too_long_to_bind_is_refused() {
        let label = "x".repeat(MAX_LABEL_LEN + 1);
        assert_eq!(
            table().begin_page_load(&label, app()).unwrap_err().code,
            ErrorCode::Internal
        );
    }
}
