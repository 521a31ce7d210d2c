//! `json::parse` on arbitrary UTF-8, plus `LineIndex::position` for every byte offset (and a few
//! past the end). Checks that spans stay inside the text on character boundaries, and compares with
//! serde_json: a document serde_json accepts must be accepted too (unless it is nested deeper than
//! the reader's limit), and then both must give the same value.
#![no_main]

use iamfit_policy::json::{self, Json, LineIndex, Value};
use libfuzzer_sys::fuzz_target;

fn check_spans(text: &str, node: &Json, depth: usize, max_depth: &mut usize) {
    *max_depth = (*max_depth).max(depth);
    let span = node.span;
    assert!(span.start <= span.end && span.end <= text.len(), "span {span:?} outside text");
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "span {span:?} splits a char"
    );
    match &node.value {
        Value::String(_) => {
            let s = &text[span.start..span.end];
            assert!(s.len() >= 2 && s.starts_with('"') && s.ends_with('"'), "string span {s:?}");
        }
        Value::Array(items) => {
            for item in items {
                check_spans(text, item, depth + 1, max_depth);
            }
        }
        Value::Object(members) => {
            for m in members {
                let k = &text[m.key_span.start..m.key_span.end];
                assert!(k.len() >= 2 && k.starts_with('"') && k.ends_with('"'), "key span {k:?}");
                check_spans(text, &m.value, depth + 1, max_depth);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let index = LineIndex::new(text);
    let lines = text.matches('\n').count() + 1;
    for offset in 0..=text.len() + 2 {
        let (line, column) = index.position(text, offset);
        assert!(line >= 1 && line <= lines && column >= 1, "position({offset}) = ({line}, {column})");
    }
    let serde: Result<serde_json::Value, _> = serde_json::from_str(text);
    match json::parse(text) {
        Ok(root) => {
            let mut max_depth = 0;
            check_spans(text, &root, 0, &mut max_depth);
            let converted = root.to_serde();
            if let Ok(expected) = serde {
                assert_eq!(converted, expected, "value differs from serde_json");
            }
        }
        Err(e) => {
            assert!(e.offset <= text.len(), "error offset {} past the end", e.offset);
            let _ = index.position(text, e.offset);
            if serde.is_ok() && !e.message.contains("deeply") {
                panic!("serde_json accepts the text but json::parse says: {} at {}", e.message, e.offset);
            }
        }
    }
});
