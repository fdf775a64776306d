//! The deserializer's tests: every type is read from the tree and from a `Value`, and
//! both must agree.

use std::fmt;

use serde_json::Value;

use crate::json::tree::parse_tree;

/// Deserializes `T` from the text through the tree, and from a `Value` as before:
/// both must agree, on success and on failure.
fn same<T>(text: &str)
where
    T: serde::de::DeserializeOwned + PartialEq + fmt::Debug,
{
    let tree = parse_tree(text, 16).unwrap();
    let through_tree = T::deserialize(&tree).map_err(|e| e.to_string());
    let value: Value = serde_json::from_str(text).unwrap();
    let through_value = serde_json::from_value::<T>(value).map_err(|e| e.to_string());
    assert_eq!(
        through_tree.is_ok(),
        through_value.is_ok(),
        "{text}: {through_tree:?} / {through_value:?}"
    );
    if let (Ok(a), Ok(b)) = (&through_tree, &through_value) {
        assert_eq!(a, b, "{text}");
    }
}

#[derive(serde::Deserialize, PartialEq, Debug)]
#[serde(deny_unknown_fields)]
struct Note {
    title: String,
    tags: Vec<String>,
    pinned: Option<bool>,
    size: u32,
}

#[derive(serde::Deserialize, PartialEq, Debug)]
enum Shape {
    Dot,
    Circle(f64),
    Rect { w: u8, h: u8 },
    Pair(i8, i8),
}

#[derive(serde::Deserialize, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Tagged {
    Text { body: String },
    Count { n: i64 },
}

#[derive(serde::Deserialize, PartialEq, Debug)]
#[serde(untagged)]
enum Either {
    Num(u64),
    Words(Vec<String>),
}

#[derive(serde::Deserialize, PartialEq, Debug)]
struct Wrapper(String);

#[test]
fn types_come_out_of_the_tree_as_out_of_a_value() {
    same::<Note>(r#"{"title":"t","tags":["a","b\n"],"pinned":null,"size":7}"#);
    same::<Note>(r#"{"title":"t","tags":[],"size":7,"pinned":true}"#);
    same::<Note>(r#"{"title":"t","tags":[],"size":-7}"#);
    same::<Note>(r#"{"title":"t","tags":[],"size":7.5}"#);
    same::<Note>(r#"{"title":"t","tags":[],"size":7,"extra":1}"#);
    same::<Note>(r#"{"title":"t","size":7}"#);
    same::<Note>(r#"["t",["a"],null,7]"#);
    same::<Note>(r#"["t",["a"],null,7,8]"#);
    for shape in [
        r#""Dot""#,
        r#"{"Dot":null}"#,
        r#"{"Circle":1.5}"#,
        r#"{"Rect":{"w":1,"h":2}}"#,
        r#"{"Pair":[1,-2]}"#,
        r#"{"Pair":[1]}"#,
        r#""Circle""#,
        r#"{"Dot":1}"#,
        r#"{"Nope":1}"#,
        r#"{"Dot":null,"Circle":1}"#,
        "3",
    ] {
        same::<Shape>(shape);
    }
    same::<Tagged>(r#"{"kind":"text","body":"b"}"#);
    same::<Tagged>(r#"{"n":3,"kind":"count"}"#);
    same::<Tagged>(r#"{"kind":"other"}"#);
    // A number is never an enum's tag (serde would take it as a variant index).
    same::<Tagged>(r#"{"kind":1,"n":3}"#);
    same::<Tagged>(r#"{"kind":0,"body":"b"}"#);
    same::<Tagged>("[1,3]");
    same::<Vec<Tagged>>(r#"[{"kind":1,"n":3}]"#);
    same::<Shape>("1");
    same::<Shape>(r#"{"1":2.5}"#);
    same::<Either>("18446744073709551615");
    same::<Either>(r#"["x","y"]"#);
    same::<Either>(r#"{"x":1}"#);
    same::<Wrapper>(r#""w""#);
    same::<std::collections::BTreeMap<u32, bool>>(r#"{"1":true,"20":false}"#);
    same::<std::collections::BTreeMap<u32, bool>>(r#"{"x":true}"#);
    // Keys read as numbers only as serde_json reads them: two spellings of one number
    // would be one key to the handler.
    for key in [
        "01", "00", "+1", "-0", "1 ", " 1", "1.", ".5", "inf", "NaN", "1e2", "-1",
    ] {
        same::<std::collections::BTreeMap<i32, bool>>(&format!(r#"{{"{key}":true}}"#));
        same::<std::collections::BTreeMap<u64, bool>>(&format!(r#"{{"{key}":true}}"#));
        same::<std::collections::BTreeMap<i128, bool>>(&format!(r#"{{"{key}":true}}"#));
    }
    same::<std::collections::BTreeMap<bool, u8>>(r#"{"true":1,"false":0}"#);
    same::<std::collections::BTreeMap<bool, u8>>(r#"{"True":1}"#);
    same::<std::collections::BTreeMap<String, Option<u8>>>(r#"{"a":null,"b":255}"#);
    same::<(u8, String)>(r#"[1,"a"]"#);
    same::<(u8, String)>(r#"[1,"a",2]"#);
    same::<()>("null");
    same::<()>("{}");
    same::<Option<String>>("null");
    same::<Vec<u8>>("[0,255]");
    same::<Vec<u8>>("[256]");
    same::<f32>("1e39");
    same::<i128>("-170141183460469231731687303715884105728");
    same::<Value>(r#"{"a":[1,2.5,"x",{"b":null}],"c":true}"#);
    // Each typed request takes only its own JSON type.
    same::<String>("1");
    same::<u8>(r#""1""#);
    same::<bool>("0");
    same::<()>("0");
    same::<Vec<u8>>(r#"{"0":1}"#);
    same::<Vec<u8>>(r#""ab""#);
    same::<std::collections::BTreeMap<String, u8>>("[]");
    same::<char>(r#""é""#);
    same::<char>("1");
}
