//! The native transport on WebKitGTK 2.40 and later: a script message handler with
//! replies (`webkit_user_content_manager_register_script_message_handler_with_reply`),
//! which a page reaches as `window.webkit.messageHandlers.portcullisIpc.postMessage(value)`,
//! a promise of the answer. One engine message each way; no HTTP framing, no request
//! body read in pieces.
//!
//! Who can reach it: every frame of the webview, the main frame and frames an attacker
//! adds, as with wry's own `ipc` handler. WebKit tells the handler nothing about the
//! sending frame, and nothing here asks: the webview's label is the one this handler was
//! registered for, its page load and origin are Rust's own record of it, and only the
//! seal tells the isolation frame's messages from anyone else's, as on every transport.
//!
//! What a message may be: a string, in the form of [`native_form`] (an envelope, a
//! channel request, or the warm-up `W`, answered `=null` before any state is read; bytes
//! travel as base64, since WebKit passes no `ArrayBuffer` through this path). Anything
//! else is refused with `E_BAD_REQUEST` by its type, its mark or its base64 decoding,
//! and an envelope too long for `limits.maxMessageBytes` with `E_TOO_LARGE` before it is
//! decoded; a value is never walked. The answer is a string of the same form.
//!
//! Threads: WebKit calls the handler on the webviews' (GTK) thread; answers may come from
//! any thread (a handler's result) and are handed back to the GTK thread's main context
//! before a JavaScriptCore value is made. A message never answered (a table dropped
//! with the call in it) is answered `E_INTERNAL` when its reply is dropped, so no promise
//! in the page waits forever.

use std::ffi::CString;
use std::sync::Arc;

use gtk::glib;
use gtk::glib::ffi::{GTRUE, gboolean, gpointer};
use gtk::glib::gobject_ffi;
use gtk::glib::translate::{ToGlibPtr, from_glib_full};
use javascriptcore_rs_sys as jsc;
use portcullis_core::router::CallError;
use portcullis_core::{ErrorCode, Rejection};
use webkit2gtk::WebViewExt;
use webkit2gtk::ffi as wk;
use wry::{WebView, WebViewExtUnix};

use crate::engine::native_form;
use crate::transport::{self, Answer, NATIVE_HANDLER, Replier, Via};
use crate::{Error, Shared};

/// The longest channel text taken (`close ` and a 32-digit id is 38 bytes).
pub const MAX_CHANNEL_TEXT: usize = 64;

/// Whether the WebKitGTK this process runs has handlers with replies (2.40 or later).
pub(crate) fn available() -> bool {
    // Plain getters of the library's version numbers.
    let (major, minor) = unsafe {
        (
            wk::webkit_get_major_version(),
            wk::webkit_get_minor_version(),
        )
    };
    (major, minor) >= (2, 40)
}

/// What the signal handler knows: the state and the webview it serves.
struct Handler {
    shared: Arc<Shared>,
    label: String,
}

/// Registers the native transport on `webview`, labelled `label`.
pub(crate) fn attach(webview: &WebView, shared: &Arc<Shared>, label: &str) -> Result<(), Error> {
    if !available() {
        return Err(Error::Engine(
            "the native transport needs WebKitGTK 2.40 or later: choose Transport::Fetch".into(),
        ));
    }
    let view = webview.webview();
    let manager = view
        .user_content_manager()
        .ok_or_else(|| Error::Engine("the webview has no user content manager".into()))?;
    let signal = CString::new(format!(
        "script-message-with-reply-received::{NATIVE_HANDLER}"
    ))
    .map_err(|e| Error::Engine(format!("handler name: {e}")))?;
    let name =
        CString::new(NATIVE_HANDLER).map_err(|e| Error::Engine(format!("handler name: {e}")))?;
    let handler = Box::into_raw(Box::new(Handler {
        shared: Arc::clone(shared),
        label: label.to_owned(),
    }));
    let manager_ptr: *mut wk::WebKitUserContentManager = manager.to_glib_none().0;
    // Connected before registering, as WebKit's documentation asks. The signal's
    // handler has the C signature WebKit declares for it; glib frees `handler` with the
    // connection (when the manager goes).
    let registered = unsafe {
        let trampoline: unsafe extern "C" fn(
            *mut wk::WebKitUserContentManager,
            *mut jsc::JSCValue,
            *mut wk::WebKitScriptMessageReply,
            gpointer,
        ) -> gboolean = received;
        glib::signal::connect_raw(
            manager_ptr.cast::<gobject_ffi::GObject>(),
            signal.as_ptr(),
            Some(std::mem::transmute::<*const (), unsafe extern "C" fn()>(
                trampoline as *const (),
            )),
            handler,
        );
        // A null world is the page's own (default) world.
        wk::webkit_user_content_manager_register_script_message_handler_with_reply(
            manager_ptr,
            name.as_ptr(),
            std::ptr::null(),
        )
    };
    if registered == 0 {
        return Err(Error::Engine(format!(
            "WebKit refused to register the {NATIVE_HANDLER:?} message handler"
        )));
    }
    Ok(())
}

/// `script-message-with-reply-received`: one message. Always answered (now or later),
/// so it returns `TRUE`: no other handler answers it.
unsafe extern "C" fn received(
    _manager: *mut wk::WebKitUserContentManager,
    value: *mut jsc::JSCValue,
    reply: *mut wk::WebKitScriptMessageReply,
    data: gpointer,
) -> gboolean {
    // `data` is the `Handler` `attach` connected, alive as long as the connection;
    // `value` and `reply` are WebKit's for the length of this call, and `hold` takes the
    // references that keep them for the answer.
    let handler = unsafe { &*data.cast::<Handler>() };
    let pending = unsafe { Pending::hold(reply, value) };
    let reply: Replier = Box::new(move |answer| pending.send(answer));
    unsafe { dispatch(handler, value, reply) };
    GTRUE
}

/// Reads the message in `value` ([`native_form`]) and hands it to the
/// transport; anything but a string is refused by its type alone, never walked.
///
/// Safety: `value` is a live JSCValue, on the GTK thread.
unsafe fn dispatch(handler: &Handler, value: *mut jsc::JSCValue, reply: Replier) {
    let (shared, label) = (&handler.shared, handler.label.as_str());
    if unsafe { jsc::jsc_value_is_string(value) } == 0 {
        let rejection = Rejection::new(
            ErrorCode::BadRequest,
            "the native transport takes a string (see PROTOCOL.md, the native transport)",
        );
        transport::observe(shared, label, Via::Protocol, &[], Some(rejection.code));
        return transport::refuse(shared, label, rejection, reply);
    }
    // The string's UTF-8, with its length (a NUL inside is a byte like any other).
    let text: glib::Bytes = unsafe { from_glib_full(jsc::jsc_value_to_string_as_bytes(value)) };
    crate::profile::request(|| {
        format!(
            "native {} arrived",
            text.first().map_or('-', |&b| char::from(b))
        )
    });
    match native_form::message(&text, shared.gate.limits().max_message_bytes) {
        Ok(native_form::Message::WarmUp) => reply(Answer::Json(b"null".to_vec())),
        Ok(native_form::Message::Envelope(bytes)) => {
            transport::envelope(shared, label, bytes, reply)
        }
        Ok(native_form::Message::Channel(request)) if request.len() > MAX_CHANNEL_TEXT => {
            let rejection = Rejection::new(
                ErrorCode::BadRequest,
                format!(
                    "a channel request is at most {MAX_CHANNEL_TEXT} bytes, not {}",
                    request.len()
                ),
            );
            transport::observe_pull(shared, label, &[], Some(rejection.code));
            transport::refuse(shared, label, rejection, reply);
        }
        Ok(native_form::Message::Channel(request)) => {
            transport::channel(shared, label, &request, reply)
        }
        Err(rejection) => {
            transport::observe(shared, label, Via::Protocol, &text, Some(rejection.code));
            transport::refuse(shared, label, rejection, reply);
        }
    }
}

/// A reply WebKit waits for, and the JavaScriptCore context its value is made in.
struct Raw {
    reply: *mut wk::WebKitScriptMessageReply,
    context: *mut jsc::JSCContext,
}

// Both pointers are reference-counted WebKit objects used only on the GTK thread: `Raw`
// crosses threads only to be handed back there (`Pending::send`, `Drop`).
unsafe impl Send for Raw {}

/// An unanswered message: answered once, on the GTK thread.
struct Pending(Option<Raw>);

impl Pending {
    /// Takes a reference to `reply` and to `value`'s context.
    ///
    /// Safety: both are live, on the GTK thread.
    unsafe fn hold(reply: *mut wk::WebKitScriptMessageReply, value: *mut jsc::JSCValue) -> Self {
        unsafe {
            wk::webkit_script_message_reply_ref(reply);
            let context = jsc::jsc_value_get_context(value);
            gobject_ffi::g_object_ref(context.cast());
            Pending(Some(Raw { reply, context }))
        }
    }

    fn send(mut self, answer: Answer) {
        if let Some(raw) = self.0.take() {
            crate::profile::request(|| "native answer made".to_owned());
            answer_on_gtk_thread(raw, answer);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(raw) = self.0.take() {
            let error = CallError::new(ErrorCode::Internal, "the message was dropped unanswered");
            answer_on_gtk_thread(raw, Answer::Error(error));
        }
    }
}

/// Hands `answer` to the GTK thread (at once when already on it), makes its value there,
/// returns it to the page and lets the references go.
fn answer_on_gtk_thread(raw: Raw, answer: Answer) {
    glib::MainContext::default().invoke(move || {
        let raw = raw;
        // On the GTK thread, with the references `hold` took.
        crate::profile::request(|| "native answer on the GTK thread".to_owned());
        unsafe {
            let value = value_of(raw.context, answer);
            if value.is_null() {
                wk::webkit_script_message_reply_return_error_message(
                    raw.reply,
                    c"portcullis: the answer could not be made".as_ptr(),
                );
            } else {
                wk::webkit_script_message_reply_return_value(raw.reply, value);
                gobject_ffi::g_object_unref(value.cast());
            }
            wk::webkit_script_message_reply_unref(raw.reply);
            gobject_ffi::g_object_unref(raw.context.cast());
        }
    });
}

/// The JavaScriptCore string that carries `answer` ([`native_form`]), or null.
///
/// Safety: `context` is live, on the GTK thread.
unsafe fn value_of(context: *mut jsc::JSCContext, answer: Answer) -> *mut jsc::JSCValue {
    let bytes = glib::Bytes::from_owned(native_form::answer(answer));
    unsafe { jsc::jsc_value_new_string_from_bytes(context, bytes.to_glib_none().0) }
}
