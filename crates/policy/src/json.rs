//! A small JSON reader that keeps the source position of every value.
//!
//! IAM documents are JSON, but a validator must say *where* a problem is: `serde_json` reports
//! positions only for syntax errors. This reader builds a tree in which every value and object key
//! carries its byte [`Span`], keeps duplicate keys (IAM rejects them, so we must see them), and never
//! panics: malformed input gives a [`JsonError`] with the offset of the problem.

use std::fmt;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

/// Where an element of a document stands: its byte span and its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Byte range in the document text.
    pub span: Span,
    /// JSON pointer, e.g. `/Statement/0/Action/1`.
    pub pointer: String,
}

/// A JSON value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    /// The value.
    pub value: Value,
    /// Where it stands in the source.
    pub span: Span,
}

/// The kinds of JSON value. Numbers keep their source text so nothing is lost in conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in source order (duplicates kept).
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Where the key stands (including its quotes).
    pub key_span: Span,
    /// The value.
    pub value: Json,
}

impl Json {
    /// The JSON type's name, for messages ("string", "array", ...).
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (positions are dropped).
    pub fn to_serde(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::String(n.clone())),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Json::to_serde).collect()),
            Value::Object(members) => {
                let mut map = serde_json::Map::new();
                for m in members {
                    map.insert(m.key.clone(), m.value.to_serde());
                }
                serde_json::Value::Object(map)
            }
        }
    }
}

/// A syntax error: what is wrong and the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong, e.g. "expected ',' or '}' after an object member".
    pub message: String,
    /// Byte offset of the problem.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonError {}

/// Nesting deeper than this is refused (IAM documents are shallow; this bounds the recursion).
const MAX_DEPTH: usize = 64;

/// Parses one JSON value that must fill the whole text (surrounding white space and a leading UTF-8
/// byte order mark are allowed).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Reader { text, bytes: text.as_bytes(), pos: 0 };
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error("unexpected text after the end of the JSON value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> JsonError {
        JsonError { message: message.to_string(), offset: self.pos.min(self.bytes.len()) }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            None => return Err(self.error("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.keyword("true", Value::Bool(true))?,
            Some(b'f') => self.keyword("false", Value::Bool(false))?,
            Some(b'n') => self.keyword("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                let c = self.text.get(self.pos..).and_then(|rest| rest.chars().next()).unwrap_or('?');
                return Err(self.error(&format!("unexpected character {c:?}, expected a value")));
            }
        };
        Ok(Json { value, span: Span { start, end: self.pos } })
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(
                "invalid literal, expected true, false, null, a number, a string, an array or an object",
            ))
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !matches!(self.bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !matches!(self.bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        // The number is ASCII, so its bounds are character boundaries.
        let number = self.text.get(start..self.pos).ok_or_else(|| self.error("invalid number"))?;
        Ok(Value::Number(number.to_string()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run starts after an ASCII quote or escape and stops before an ASCII byte or at the
            // end, so its bounds are character boundaries.
            let run = self.text.get(run_start..self.pos).ok_or_else(|| self.error("invalid string"))?;
            out.push_str(run);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape sequence in string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in string (escape it)")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits =
            self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.error("truncated \\u escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.bytes[self.pos..].starts_with(b"\\u") {
                self.pos += 2;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(c).ok_or_else(|| self.error("invalid surrogate pair"));
                }
            }
            return Err(self.error("unpaired surrogate in \\u escape"));
        }
        char::from_u32(hi).ok_or_else(|| self.error("invalid \\u escape (lone surrogate)"))
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error("unexpected end of input in an array, expected ',' or ']'")),
                Some(_) => return Err(self.error("expected ',' or ']' after an array element")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            match self.bytes.get(self.pos) {
                Some(b'"') => {}
                None => return Err(self.error("unexpected end of input in an object, expected a key")),
                Some(b'}') => return Err(self.error("trailing comma before '}'")),
                Some(_) => return Err(self.error("expected a string key in double quotes")),
            }
            let key = self.string()?;
            let key_span = Span { start: key_start, end: self.pos };
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':' after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member { key, key_span, value });
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                None => return Err(self.error("unexpected end of input in an object, expected ',' or '}'")),
                Some(_) => return Err(self.error("expected ',' or '}' after an object member")),
            }
        }
    }
}

/// Converts byte offsets into 1-based line and column numbers (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// The 1-based (line, column) of a byte offset in `text` (the text this index was built from).
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (line + 1, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_spans() {
        let text = "{\"a\": [1, \"x\\n\", true, null], \"b\": {}}";
        let json = parse(text).unwrap();
        let members = json.as_object().unwrap();
        assert_eq!(members[0].key, "a");
        assert_eq!(&text[members[0].key_span.start..members[0].key_span.end], "\"a\"");
        let Value::Array(items) = &members[0].value.value else { panic!("not an array") };
        assert_eq!(items[1].as_str(), Some("x\n"));
        assert_eq!(&text[items[1].span.start..items[1].span.end], "\"x\\n\"");
        assert_eq!(items[0].value, Value::Number("1".into()));
    }

    #[test]
    fn keeps_duplicate_keys() {
        let json = parse(r#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 2);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let text = "{\n  \"a\": 1,\n  \"b\" 2\n}";
        let err = parse(text).unwrap_err();
        assert_eq!(LineIndex::new(text).position(text, err.offset), (3, 7));
        assert!(err.message.contains("':'"));
        assert!(parse("{\"a\": 1,}").unwrap_err().message.contains("trailing comma"));
        assert!(parse("[1, 2").is_err());
        assert!(parse("\"abc").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse("01").is_err());
        assert!(parse("\"\\ud800\"").is_err());
    }

    #[test]
    fn unicode_escapes_and_bom() {
        let json = parse("\u{feff}\"\\u00e9\\ud83d\\ude00\"").unwrap();
        assert_eq!(json.as_str(), Some("é😀"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(parse(&text).unwrap_err().message.contains("deeply"));
    }

    #[test]
    fn columns_count_characters() {
        let text = "{\"é\": x}";
        let err = parse(text).unwrap_err();
        assert_eq!(LineIndex::new(text).position(text, err.offset), (1, 7));
    }
}
