//! A template as a tree of nodes that remember where they are in the file, read from YAML (with the
//! CloudFormation short-form tags turned into their long forms) or JSON (a subset of YAML, read by the
//! same parser).

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver, Tag};

use crate::error::TemplateError;

/// Where a node is in the file: 1-based line and column, and its character range (for edits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// Index of the first character (in characters, not bytes).
    pub start: usize,
    /// Index one past the last character.
    pub end: usize,
}

impl Pos {
    fn from_span(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
            start: span.start.index(),
            end: span.end.index(),
        }
    }
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order; each key with its position.
    Map(Vec<(Key, Node)>),
}

/// A mapping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where it is.
    pub pos: Pos,
}

/// A value and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Its position.
    pub pos: Pos,
}

impl Node {
    /// A node without a position in the file (generated content: SAM's additions, policy templates).
    pub fn synthetic(value: Value, pos: Pos) -> Node {
        Node { value, pos }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The mapping's entries (empty for other values).
    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The sequence's items (empty for other values).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The string value, for strings only.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar (string, number, boolean).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// For a one-key mapping whose key is an intrinsic function (`Ref`, `Fn::...`, `Condition`), the
    /// function name and its argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match &self.value {
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                (k.name == "Ref" || k.name.starts_with("Fn::") || k.name == "Condition")
                    .then_some((k.name.as_str(), v))
            }
            _ => None,
        }
    }

    /// A node from JSON (generated content), placed at `pos`.
    pub fn from_json(value: &serde_json::Value, pos: Pos) -> Node {
        let value = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.to_string()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Seq(items.iter().map(|v| Node::from_json(v, pos)).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter().map(|(k, v)| (Key { name: k.clone(), pos }, Node::from_json(v, pos))).collect(),
            ),
        };
        Node { value, pos }
    }

    /// The node as JSON, intrinsic functions left as they are.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => serde_json::Value::Object(
                entries.iter().map(|(k, v)| (k.name.clone(), v.to_json())).collect(),
            ),
        }
    }
}

/// A number as JSON: integers and floats as numbers, anything else (`0x1F`, `.inf`) as a string.
pub fn number_json(text: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Number>(text)
        .map(serde_json::Value::Number)
        .unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

/// The CloudFormation short-form tags and the long-form function each stands for.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("Sub", "Fn::Sub"),
    ("GetAtt", "Fn::GetAtt"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Not", "Fn::Not"),
    ("FindInMap", "Fn::FindInMap"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("ImportValue", "Fn::ImportValue"),
    ("GetAZs", "Fn::GetAZs"),
    ("Transform", "Fn::Transform"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Length", "Fn::Length"),
];

enum Frame {
    Seq { items: Vec<Node>, pos: Pos, anchor: usize, tag: Option<String> },
    Map { entries: Vec<(Key, Node)>, key: Option<Key>, pos: Pos, anchor: usize, tag: Option<String> },
}

/// Builds nodes from the parser's events.
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<(Pos, String)>,
    /// Nodes copied by aliases so far (bounded: a "billion laughs" document must not exhaust memory).
    alias_nodes: usize,
}

/// The most nodes aliases may copy in one document.
const MAX_ALIAS_NODES: usize = 1_000_000;

fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| node_count(v)).sum(),
        _ => 0,
    }
}

impl Builder {
    fn tag_name(&mut self, tag: Option<Cow<'_, Tag>>, pos: Pos) -> Option<String> {
        let tag = tag?;
        if tag.handle == "!" {
            if SHORT_FORMS.iter().any(|(short, _)| *short == tag.suffix) {
                return Some(tag.suffix.clone());
            }
            if self.error.is_none() {
                self.error = Some((
                    pos,
                    format!("unknown tag !{}: not a CloudFormation intrinsic function", tag.suffix),
                ));
            }
        }
        None
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let name = node.scalar_text().unwrap_or_default();
                    *key = Some(Key { name, pos: node.pos });
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// Wraps a tagged node in its long form: `!Ref X` is `{"Ref": X}`, `!GetAtt A.B` is
/// `{"Fn::GetAtt": [A, B]}`.
fn apply_tag(tag: Option<String>, node: Node) -> Node {
    let Some(short) = tag else { return node };
    let long = SHORT_FORMS.iter().find(|(s, _)| *s == short).map(|(_, l)| *l).unwrap_or("Ref");
    let pos = node.pos;
    let arg = match (&node.value, long) {
        (Value::String(s), "Fn::GetAtt") => {
            let (resource, attribute) = s.split_once('.').unwrap_or((s.as_str(), ""));
            Node {
                value: Value::Seq(vec![
                    Node { value: Value::String(resource.to_string()), pos },
                    Node { value: Value::String(attribute.to_string()), pos },
                ]),
                pos,
            }
        }
        _ => node,
    };
    Node { value: Value::Map(vec![(Key { name: long.to_string(), pos }, arg)]), pos }
}

fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if looks_numeric(text) => Value::Number(text.to_string()),
        _ => Value::String(text.to_string()),
    }
}

fn looks_numeric(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && text.parse::<f64>().is_ok()
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        let pos = Pos::from_span(&span);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = self.tag_name(tag, pos);
                let value = match style {
                    ScalarStyle::Plain => plain_scalar(&text),
                    _ => Value::String(text.into_owned()),
                };
                let node = apply_tag(tag, Node { value, pos });
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = self.tag_name(tag, pos);
                self.stack.push(Frame::Seq { items: Vec::new(), pos, anchor, tag });
            }
            Event::MappingStart(anchor, tag) => {
                let tag = self.tag_name(tag, pos);
                self.stack.push(Frame::Map { entries: Vec::new(), key: None, pos, anchor, tag });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, pos: start, anchor, tag }) = self.stack.pop() {
                    let node = Node { value: Value::Seq(items), pos: Pos { end: pos.end, ..start } };
                    self.finish(apply_tag(tag, node), anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { entries, pos: start, anchor, tag, .. }) = self.stack.pop() {
                    let node = Node { value: Value::Map(entries), pos: Pos { end: pos.end, ..start } };
                    self.finish(apply_tag(tag, node), anchor);
                }
            }
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map_or(1, node_count);
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    if self.error.is_none() {
                        self.error = Some((pos, "aliases expand to more than 1,000,000 nodes".into()));
                    }
                    return;
                }
                let node = self.anchors.get(&id).cloned().unwrap_or(Node { value: Value::Null, pos });
                self.finish(Node { pos, ..node }, 0);
            }
            _ => {}
        }
    }
}

/// Parses a YAML or JSON template into nodes.
pub fn parse(text: &str, path: &str) -> Result<Node, TemplateError> {
    let mut builder =
        Builder { stack: Vec::new(), anchors: HashMap::new(), root: None, error: None, alias_nodes: 0 };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| TemplateError::Syntax {
        path: path.to_string(),
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    if let Some((pos, message)) = builder.error {
        return Err(TemplateError::at(path, pos, message, None));
    }
    builder.root.ok_or_else(|| TemplateError::at(path, Pos::default(), "the template is empty".into(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms_with_positions() {
        let text = "A:\n  B: !GetAtt Queue.Arn\n  C: !Sub '${X}-y'\n  D: [1, true, ~, \"2\"]\n";
        let root = parse(text, "t.yaml").unwrap();
        let a = root.get("A").unwrap();
        let b = a.get("B").unwrap();
        let (name, arg) = b.intrinsic().unwrap();
        assert_eq!(name, "Fn::GetAtt");
        assert_eq!(arg.to_json(), serde_json::json!(["Queue", "Arn"]));
        assert_eq!((b.pos.line, b.pos.column), (2, 6));
        assert_eq!(a.get("C").unwrap().to_json(), serde_json::json!({"Fn::Sub": "${X}-y"}));
        assert_eq!(a.get("D").unwrap().to_json(), serde_json::json!([1, true, null, "2"]));
    }

    #[test]
    fn aliases_are_expanded_and_bounded() {
        let root = parse("a: &x {k: v}\nb: *x\n", "t.yaml").unwrap();
        assert_eq!(root.get("b").unwrap().to_json(), serde_json::json!({"k": "v"}));
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            bomb.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n",
                p = i - 1
            ));
        }
        let err = parse(&bomb, "bomb.yaml").unwrap_err().to_string();
        assert!(err.contains("more than 1,000,000 nodes"), "{err}");
    }

    #[test]
    fn json_reads_with_positions() {
        let root = parse("{\n  \"A\": {\"Ref\": \"P\"}\n}", "t.json").unwrap();
        let a = root.get("A").unwrap();
        assert_eq!(a.to_json(), serde_json::json!({"Ref": "P"}));
        assert_eq!(a.pos.line, 2);
    }

    #[test]
    fn bad_yaml_and_unknown_tags_have_positions() {
        let err = parse("A: [1, 2\nB: 3\n", "t.yaml").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:"), "{err}");
        let err = parse("A:\n  B: !Reff X\n", "t.yaml").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:2:6:"), "{err}");
        assert!(err.contains("!Reff"), "{err}");
    }
}
