//! Typed registration: the same handlers, with their types recorded by name.
//!
//! [`Router::command_typed`], [`Router::stream_typed`] and [`Router::on_event_typed`]
//! register exactly as their untyped twins do; they also record the JSON Schema
//! (`schemars`) of the handler's [`Args`], its result, its error's data and its
//! channels' messages, and [`Router::emits`] declares an event the core sends to pages.
//! [`Router::manifest`] hands it all out as a [`Manifest`]. A handler written with plain
//! `.command()` is unchanged and appears in the manifest by name only.
//!
//! What each piece of a typed handler must implement: every extractor [`DescribeArg`]
//! (all of the core's do; `Args<T>` and `Channel<T>` need `T: JsonSchema`), its result
//! [`DescribeReply`] (a `Serialize + JsonSchema` value, `Vec<u8>`, a `Payload`, or a
//! `Result` of one of those with an error that implements [`TypedError`]).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::future::Future;

use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::extract::{Args, CancellationToken, Scoped, State};
use super::handler::Handler;
use super::{Router, RouterErrors};
use crate::caller::Caller;
use crate::channel::Channel;
use crate::manifest::{ErrorShape, MANIFEST_VERSION, Manifest, Shape, Signature};
use crate::policy::grants::Grants;
use crate::reply::{AppError, Bytes, Fallible, HandlerError, Payload, Plain, Raw};
use crate::stream::Upload;
use crate::wire::request::Body;

/// The types recorded so far, by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Types {
    commands: BTreeMap<String, Signature>,
    streams: BTreeMap<String, Signature>,
    events: BTreeMap<String, Value>,
    emits: BTreeMap<String, Value>,
    definitions: BTreeMap<String, Value>,
}

/// What an extractor tells the manifest about the call's arguments.
pub trait DescribeArg {
    /// Adds what this extractor takes to `signature` (nothing, for most).
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
        let _ = (generator, signature);
    }
}

impl<T: JsonSchema> DescribeArg for Args<T> {
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
        signature.args = Shape::Json(generator.subschema_for::<T>().to_value());
    }
}

impl DescribeArg for Bytes {
    fn describe(_: &mut SchemaGenerator, signature: &mut Signature) {
        signature.args = Shape::Bytes;
    }
}

impl DescribeArg for Body {
    fn describe(_: &mut SchemaGenerator, signature: &mut Signature) {
        signature.args = Shape::Any;
    }
}

impl<T: JsonSchema> DescribeArg for Channel<T> {
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
        reads_some_arguments(signature);
        signature
            .channels
            .push(generator.subschema_for::<T>().to_value());
    }
}

impl DescribeArg for Caller {}
impl DescribeArg for Scoped {
    fn describe(_: &mut SchemaGenerator, signature: &mut Signature) {
        reads_some_arguments(signature);
    }
}

/// A handler that reads its checked paths or channels without `Args` takes arguments
/// whose shape only the rule knows: any, unless an `Args` says more.
fn reads_some_arguments(signature: &mut Signature) {
    if signature.args == Shape::None {
        signature.args = Shape::Any;
    }
}
impl DescribeArg for CancellationToken {}
impl DescribeArg for Grants {}
impl DescribeArg for Upload {}
impl<T: ?Sized> DescribeArg for State<T> {}

/// Bytes, as the page receives them (a `Uint8Array`; the manifest says `bytes`).
impl JsonSchema for Bytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bytes".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<Vec<u8>>()
    }
}

/// What a handler's result tells the manifest; `M` tells the shapes apart as in
/// [`IntoReply`](crate::reply::IntoReply).
pub trait DescribeReply<M> {
    /// Sets the result (and error) of `signature`.
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature);
}

impl<T: Serialize + JsonSchema + 'static> DescribeReply<Plain> for T {
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
        let id = TypeId::of::<T>();
        signature.result = if id == TypeId::of::<Vec<u8>>() || id == TypeId::of::<Bytes>() {
            Shape::Bytes
        } else if id == TypeId::of::<()>() {
            Shape::None
        } else {
            Shape::Json(generator.subschema_for::<T>().to_value())
        };
    }
}

impl DescribeReply<Raw> for Payload {
    fn describe(_: &mut SchemaGenerator, signature: &mut Signature) {
        signature.result = Shape::Any;
    }
}

impl<M, T: DescribeReply<M>, E: TypedError> DescribeReply<Fallible<M>> for Result<T, E> {
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
        T::describe(generator, signature);
        signature.error = Some(ErrorShape {
            app_codes: E::app_codes().iter().map(|c| c.to_string()).collect(),
            data: generator.subschema_for::<E::Data>().to_value(),
        });
    }
}

/// An [`AppError`] whose data and codes the page may know by type.
pub trait TypedError: AppError {
    /// The type [`AppError::data`] serializes from (`serde_json::Value` when any JSON).
    type Data: JsonSchema;

    /// Every code [`AppError::app_code`] may give; none by default.
    fn app_codes() -> &'static [&'static str] {
        &[]
    }
}

impl TypedError for HandlerError {
    type Data = Value;
}

/// A handler whose types can be recorded: every extractor [`DescribeArg`], its result
/// [`DescribeReply`]. Implemented for the same functions as [`Handler`].
pub trait TypedHandler<M>: Handler<M> {
    /// Records the handler's types in `signature`.
    fn describe(generator: &mut SchemaGenerator, signature: &mut Signature);
}

macro_rules! typed_handlers {
    ($($T:ident),*) => {
        impl<F, R, RM, $($T,)*> TypedHandler<(super::handler::Blocking, RM, $($T,)*)> for F
        where
            F: Fn($($T),*) -> R + Send + Sync + 'static,
            R: crate::reply::IntoReply<RM> + DescribeReply<RM>,
            $($T: super::extract::FromCall + DescribeArg,)*
        {
            #[allow(unused_variables)]
            fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
                signature.args = Shape::None;
                $($T::describe(generator, signature);)*
                R::describe(generator, signature);
            }
        }

        impl<F, Fut, RM, $($T,)*> TypedHandler<(super::handler::Awaited, RM, $($T,)*)> for F
        where
            F: Fn($($T),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: crate::reply::IntoReply<RM> + DescribeReply<RM>,
            $($T: super::extract::FromCall + DescribeArg,)*
        {
            #[allow(unused_variables)]
            fn describe(generator: &mut SchemaGenerator, signature: &mut Signature) {
                signature.args = Shape::None;
                $($T::describe(generator, signature);)*
                <Fut::Output as DescribeReply<RM>>::describe(generator, signature);
            }
        }
    };
}

typed_handlers!();
typed_handlers!(T1);
typed_handlers!(T1, T2);
typed_handlers!(T1, T2, T3);
typed_handlers!(T1, T2, T3, T4);
typed_handlers!(T1, T2, T3, T4, T5);
typed_handlers!(T1, T2, T3, T4, T5, T6);
typed_handlers!(T1, T2, T3, T4, T5, T6, T7);
typed_handlers!(T1, T2, T3, T4, T5, T6, T7, T8);

impl Router {
    /// [`Router::command`], with the handler's types recorded for [`Router::manifest`].
    pub fn command_typed<M, H: TypedHandler<M>>(self, name: &str, handler: H) -> Self {
        let router = self.command(name, handler);
        router.record(name, false, H::describe)
    }

    /// [`Router::stream`], with the handler's types recorded (its `Args` is the
    /// stream's metadata).
    pub fn stream_typed<M, H: TypedHandler<M>>(self, name: &str, handler: H) -> Self {
        let router = self.stream(name, handler);
        router.record(name, true, H::describe)
    }

    /// [`Router::on_event`], with the payload's type recorded.
    pub fn on_event_typed<P, F>(self, name: &str, listener: F) -> Self
    where
        P: DeserializeOwned + JsonSchema,
        F: Fn(&Caller, P) + Send + Sync + 'static,
    {
        let mut router = self.on_event(name, listener);
        let schema = router.schema_of::<P>();
        router.types.events.insert(name.to_owned(), schema);
        router
    }

    /// Declares an event the core emits to pages (`Emitter::emit`), with its payload's
    /// type, so the page's `listen` is typed. Emitting is not limited to these names.
    pub fn emits<P: Serialize + JsonSchema>(mut self, name: &str) -> Self {
        let schema = self.schema_of::<P>();
        self.types.emits.insert(name.to_owned(), schema);
        self
    }

    /// Every command, stream and event this router serves, with the types of those
    /// registered typed: what the bindings generator and `portcullis check --manifest`
    /// read. Fails with the table's mistakes ([`Router::check`]).
    pub fn manifest(&self) -> Result<Manifest, RouterErrors> {
        self.check()?;
        let untyped = |names: Vec<&String>, typed: &BTreeMap<String, Signature>| {
            names
                .into_iter()
                .filter(|n| !n.starts_with(super::RESERVED_PREFIX))
                .map(|n| (n.clone(), typed.get(n).cloned().unwrap_or_default()))
                .collect()
        };
        Ok(Manifest {
            version: MANIFEST_VERSION,
            commands: untyped(self.commands.keys().collect(), &self.types.commands),
            streams: untyped(self.stream_routes.keys().collect(), &self.types.streams),
            events: self
                .listeners
                .keys()
                .map(|n| (n.clone(), self.types.events.get(n).cloned()))
                .collect(),
            emits: self.types.emits.clone(),
            definitions: self.types.definitions.clone(),
        })
    }

    fn record(
        mut self,
        name: &str,
        stream: bool,
        describe: fn(&mut SchemaGenerator, &mut Signature),
    ) -> Self {
        let mut generator = SchemaGenerator::default();
        let mut signature = Signature {
            typed: true,
            ..Signature::default()
        };
        describe(&mut generator, &mut signature);
        self.merge_definitions(generator);
        let table = if stream {
            &mut self.types.streams
        } else {
            &mut self.types.commands
        };
        table.insert(name.to_owned(), signature);
        self
    }

    fn schema_of<T: JsonSchema>(&mut self) -> Value {
        let mut generator = SchemaGenerator::default();
        let schema = generator.subschema_for::<T>().to_value();
        self.merge_definitions(generator);
        schema
    }

    /// Adds the named types `generator` met; two different types of one name would make
    /// one `$ref` mean two things, so that is a mistake in the table.
    fn merge_definitions(&mut self, mut generator: SchemaGenerator) {
        self.checked = std::sync::OnceLock::new();
        for (name, schema) in generator.take_definitions(true) {
            match self.types.definitions.get(&name) {
                Some(known) if *known != schema => self.mistakes.push(format!(
                    "two types named {name:?} have different schemas: rename one (#[schemars(rename = \"...\")]) so the page's types can tell them apart"
                )),
                Some(_) => {}
                None => {
                    self.types.definitions.insert(name, schema);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::{Args, State};
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct AddNote {
        title: String,
    }

    #[derive(Serialize, JsonSchema)]
    struct Note {
        id: u32,
    }

    #[derive(Debug)]
    struct NotFound;

    impl std::fmt::Display for NotFound {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no such note")
        }
    }

    impl AppError for NotFound {}

    impl TypedError for NotFound {
        type Data = u32;
        fn app_codes() -> &'static [&'static str] {
            &["NOT_FOUND"]
        }
    }

    fn add(_: State<u8>, Args(a): Args<AddNote>) -> Result<Note, NotFound> {
        Ok(Note {
            id: a.title.len() as u32,
        })
    }

    async fn progress(_: Channel<Note>) {}

    #[test]
    fn typed_handlers_give_their_types_and_plain_ones_their_names() {
        let router = Router::new()
            .state(0u8)
            .command_typed("notes.add", add)
            .command_typed("notes.export", progress)
            .command_typed("notes.raw", |Bytes(b): Bytes| b)
            .command("notes.plain", || 1)
            .on_event_typed("opened", |_: &Caller, _: u32| {})
            .emits::<Note>("note-added");
        let manifest = router.manifest().unwrap();
        let add = &manifest.commands["notes.add"];
        assert!(add.typed);
        assert_eq!(
            add.args,
            Shape::Json(serde_json::json!({"$ref": "#/$defs/AddNote"}))
        );
        assert_eq!(
            add.result,
            Shape::Json(serde_json::json!({"$ref": "#/$defs/Note"}))
        );
        let error = add.error.as_ref().unwrap();
        assert_eq!(error.app_codes, ["NOT_FOUND"]);
        assert_eq!(error.data["type"], "integer");
        let export = &manifest.commands["notes.export"];
        assert_eq!(export.args, Shape::Any);
        assert_eq!(export.result, Shape::None);
        assert_eq!(
            export.channels,
            [serde_json::json!({"$ref": "#/$defs/Note"})]
        );
        assert_eq!(manifest.commands["notes.raw"].args, Shape::Bytes);
        assert_eq!(manifest.commands["notes.raw"].result, Shape::Bytes);
        assert_eq!(manifest.commands["notes.plain"], Signature::default());
        assert_eq!(
            manifest.events["opened"].as_ref().unwrap()["type"],
            "integer"
        );
        assert!(manifest.definitions["AddNote"]["properties"]["title"].is_object());
        assert!(manifest.emits.contains_key("note-added"));
        let again = Manifest::from_json(&manifest.to_json()).unwrap();
        assert_eq!(again, manifest);
    }

    #[test]
    fn two_types_of_one_name_are_a_mistake() {
        mod other {
            #[derive(serde::Serialize, schemars::JsonSchema)]
            pub struct Note {
                pub text: String,
            }
        }
        let router = Router::new().emits::<Note>("a").emits::<other::Note>("b");
        let errors = router.manifest().unwrap_err();
        assert!(errors.0[0].contains("two types named \"Note\""), "{errors}");
    }
}
