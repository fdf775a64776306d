//! A refusal report (kind 3): the isolation frame telling the gate, sealed like any
//! message, that it refused a call (its hook said no, timed out, or the value was not
//! canonical). A report is only ever recorded, never dispatched: it decodes to its own
//! type, which the policy and the router never take.

use crate::error::{ErrorCode, Rejection};
use crate::json::parse_strict;
use crate::name::is_valid_name;

pub use super::constants::REPORT_NAME;
use super::constants::{BODY_JSON, MessageKind};
use super::frame::{self, bad};
use super::request::Kind;

/// The longest report message the gate keeps (longer ones are cut at a character
/// boundary and marked).
pub const MAX_REPORT_MESSAGE: usize = 512;

/// A refusal the isolation frame made and reported: recorded as an audit event with its
/// code, never dispatched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The refused call's request id.
    pub request_id: u64,
    /// Why it was refused: one of [`Report::CODES`].
    pub code: ErrorCode,
    /// The refusal's message (the hook's own, for `E_HOOK_REJECTED`).
    pub message: String,
    /// The refused call's kind, when it had a valid one.
    pub kind: Option<Kind>,
    /// The refused call's name, when it had a valid one.
    pub name: Option<String>,
}

/// What the isolation frame puts in a report's JSON body.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    code: String,
    message: String,
    kind: Option<String>,
    name: Option<String>,
}

impl Report {
    /// The codes only the isolation frame produces, and so the only ones it may report.
    pub const CODES: &'static [ErrorCode] = &[
        ErrorCode::HookRejected,
        ErrorCode::HookTimeout,
        ErrorCode::BadRequest,
        ErrorCode::TooDeep,
        ErrorCode::TooLarge,
    ];

    /// Encodes this report as a plaintext (what the isolation runtime sends).
    pub fn encode(&self) -> Vec<u8> {
        let body = ReportBody {
            code: self.code.as_str().to_owned(),
            message: self.message.clone(),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            name: self.name.clone(),
        };
        let mut out = frame::write(MessageKind::Report, BODY_JSON, self.request_id, REPORT_NAME);
        let _ = serde_json::to_writer(&mut out, &body);
        out
    }

    pub(crate) fn decode(
        plain: &[u8],
        id: u64,
        name: &str,
        body_type: u8,
    ) -> Result<Report, Rejection> {
        if name != REPORT_NAME || body_type != 0 {
            return Err(bad(format!(
                "a report is framed as JSON under the name {REPORT_NAME:?}"
            )));
        }
        let value = parse_strict(plain, 2).map_err(|e| bad(format!("report body: {e}")))?;
        let body: ReportBody =
            serde_json::from_value(value).map_err(|e| bad(format!("report body: {e}")))?;
        let code = ErrorCode::from_code_str(&body.code)
            .filter(|c| Report::CODES.contains(c))
            .ok_or_else(|| {
                bad(format!(
                    "a report may carry only a code the isolation frame produces, not {:?}",
                    body.code
                ))
            })?;
        let kind = match body.kind.as_deref() {
            None => None,
            Some("command") => Some(Kind::Command),
            Some("event") => Some(Kind::Event),
            Some("stream") => Some(Kind::Stream),
            Some(_) => return Err(bad("report kind must be command, event, stream or null")),
        };
        let name = match body.name {
            Some(n) if is_valid_name(&n) => Some(n),
            Some(_) => return Err(bad("report name must be a valid name or null")),
            None => None,
        };
        Ok(Report {
            request_id: id,
            code,
            message: shorten(body.message),
            kind,
            name,
        })
    }
}

/// Cuts `message` to [`MAX_REPORT_MESSAGE`] bytes at a character boundary.
fn shorten(mut message: String) -> String {
    if message.len() > MAX_REPORT_MESSAGE {
        let mut end = MAX_REPORT_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str(" (cut)");
    }
    message
}
