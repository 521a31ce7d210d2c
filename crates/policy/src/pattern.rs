//! Compiled match patterns for `Action`, `Resource` and condition values: IAM wildcards, policy
//! variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, the escapes `${*}`, `${?}`,
//! `${$}`), and ARN-aware resource matching where each colon-separated ARN segment matches separately.

use super::context::Lookup;
use super::wildcard::{matches_pieces, AsPiece, Piece};

/// How to read the text of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// `*` and `?` are wildcards (false for `StringEquals`, where they are ordinary characters).
    pub wildcards: bool,
    /// `${...}` is a policy variable (only under policy `Version` 2012-10-17).
    pub variables: bool,
}

/// A policy variable reference inside a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The context key, lower-cased (`aws:username`).
    pub key: String,
    /// The default from `${key, 'default'}`.
    pub default: Option<String>,
}

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Star,
    One,
    Var(Variable),
}

/// A token of a pattern without variables; viewable as a wildcard piece.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fixed {
    Literal(String),
    Star,
    One,
}

impl AsPiece for Fixed {
    fn piece(&self) -> Piece<'_> {
        match self {
            Fixed::Literal(s) => Piece::Literal(s),
            Fixed::Star => Piece::Star,
            Fixed::One => Piece::One,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Compiled {
    /// Plain text: equality.
    Exact(String),
    /// Wildcards, no variables.
    Glob(Vec<Fixed>),
    /// Contains policy variables: resolved per request.
    Dynamic(Vec<Token>),
}

/// A compiled string pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    raw: String,
    compiled: Compiled,
}

impl Pattern {
    /// Compiles `raw` under the given syntax. Never fails: text that is not a well-formed variable
    /// (an unterminated `${`) is kept literally, as IAM does; [`variable_problems`] reports it.
    pub fn new(raw: &str, syntax: Syntax) -> Self {
        let tokens = tokenize(raw, syntax);
        let compiled = if tokens.iter().any(|t| matches!(t, Token::Var(_))) {
            Compiled::Dynamic(tokens)
        } else if tokens.iter().all(|t| matches!(t, Token::Literal(_))) {
            let mut text = String::new();
            for t in &tokens {
                if let Token::Literal(s) = t {
                    text.push_str(s);
                }
            }
            Compiled::Exact(text)
        } else {
            Compiled::Glob(
                tokens
                    .into_iter()
                    .map(|t| match t {
                        Token::Literal(s) => Fixed::Literal(s),
                        Token::Star => Fixed::Star,
                        _ => Fixed::One,
                    })
                    .collect(),
            )
        };
        Pattern { raw: raw.to_string(), compiled }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the pattern is exactly `*` (matches everything).
    pub fn is_match_all(&self) -> bool {
        matches!(&self.compiled, Compiled::Glob(t) if t.as_slice() == [Fixed::Star])
    }

    /// Whether the pattern has wildcards (after variable escapes are resolved).
    pub fn has_wildcards(&self) -> bool {
        match &self.compiled {
            Compiled::Exact(_) => false,
            Compiled::Glob(_) => true,
            Compiled::Dynamic(t) => t.iter().any(|t| matches!(t, Token::Star | Token::One)),
        }
    }

    /// The policy variables the pattern uses.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        let tokens: &[Token] = match &self.compiled {
            Compiled::Dynamic(t) => t,
            _ => &[],
        };
        tokens.iter().filter_map(|t| match t {
            Token::Var(v) => Some(v),
            _ => None,
        })
    }

    /// Whether `text` matches, resolving variables from `vars`. A variable with no single value in the
    /// context and no default makes the pattern match nothing.
    pub fn matches(&self, text: &str, vars: &dyn Lookup) -> bool {
        match &self.compiled {
            Compiled::Exact(s) => s == text,
            Compiled::Glob(pieces) => matches_pieces(pieces, text),
            Compiled::Dynamic(tokens) => {
                let mut pieces = Vec::with_capacity(tokens.len());
                for t in tokens {
                    pieces.push(match t {
                        Token::Literal(s) => Piece::Literal(s),
                        Token::Star => Piece::Star,
                        Token::One => Piece::One,
                        Token::Var(v) => match resolve(v, vars) {
                            Some(value) => Piece::Literal(value),
                            None => return false,
                        },
                    });
                }
                matches_pieces(&pieces, text)
            }
        }
    }

    /// The text with variables substituted (wildcards kept as `*`/`?`), or `None` when a variable has
    /// no value. Used by operators that compare whole values (`StringEqualsIgnoreCase`).
    pub fn resolve(&self, vars: &dyn Lookup) -> Option<String> {
        match &self.compiled {
            Compiled::Exact(s) => Some(s.clone()),
            Compiled::Glob(_) => Some(self.raw.clone()),
            Compiled::Dynamic(tokens) => {
                let mut out = String::new();
                for t in tokens {
                    match t {
                        Token::Literal(s) => out.push_str(s),
                        Token::Star => out.push('*'),
                        Token::One => out.push('?'),
                        Token::Var(v) => out.push_str(resolve(v, vars)?),
                    }
                }
                Some(out)
            }
        }
    }
}

fn resolve<'a>(v: &'a Variable, vars: &'a dyn Lookup) -> Option<&'a str> {
    vars.get(&v.key).and_then(|value| value.single()).or(v.default.as_deref())
}

/// Splits raw pattern text into tokens.
fn tokenize(raw: &str, syntax: Syntax) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if syntax.variables {
            if let Some((token, after)) = rest.strip_prefix("${").and_then(parse_variable) {
                match token {
                    Token::Literal(s) => lit.push_str(&s),
                    other => {
                        if !lit.is_empty() {
                            tokens.push(Token::Literal(std::mem::take(&mut lit)));
                        }
                        tokens.push(other);
                    }
                }
                rest = after;
                continue;
            }
        }
        if syntax.wildcards && (c == '*' || c == '?') {
            if !lit.is_empty() {
                tokens.push(Token::Literal(std::mem::take(&mut lit)));
            }
            tokens.push(if c == '*' { Token::Star } else { Token::One });
        } else {
            lit.push(c);
        }
        let mut chars = rest.chars();
        chars.next();
        rest = chars.as_str();
    }
    if !lit.is_empty() || tokens.is_empty() {
        tokens.push(Token::Literal(lit));
    }
    tokens
}

/// Parses a `${...}` variable, given the text after its `${`: the token and the text after its `}`, or
/// `None` if malformed.
fn parse_variable(body: &str) -> Option<(Token, &str)> {
    let (inner, after) = body.split_once('}')?;
    let token = match inner {
        "*" => Token::Literal("*".into()),
        "?" => Token::Literal("?".into()),
        "$" => Token::Literal("$".into()),
        _ => {
            let (key, default) = match inner.split_once(',') {
                Some((key, default)) => {
                    let d = default.trim();
                    let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
                    (key.trim(), Some(d.to_string()))
                }
                None => (inner.trim(), None),
            };
            if key.is_empty() || key.contains(['$', '{', ' ']) {
                return None;
            }
            Token::Var(Variable { key: key.to_lowercase(), default })
        }
    };
    Some((token, after))
}

/// Problems with `${...}` text that will be read literally (for validation findings).
pub fn variable_problems(raw: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rest = raw;
    while let Some((_, body)) = rest.split_once("${") {
        match parse_variable(body) {
            Some((_, after)) => rest = after,
            None => {
                let shown: String = "${".chars().chain(body.chars()).take(30).collect();
                problems.push(format!("malformed policy variable {shown:?} is matched literally"));
                rest = body;
            }
        }
    }
    problems
}

/// A compiled `Resource`/`NotResource` entry or ARN condition value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePattern {
    /// `*`: every resource.
    Any,
    /// An ARN: the six colon-separated segments (`arn`, partition, service, region, account, resource)
    /// match separately; the last one may contain colons.
    Arn(Box<[Pattern; 6]>),
    /// Anything else: one pattern over the whole text.
    Other(Pattern),
}

impl ResourcePattern {
    /// Compiles a resource or ARN pattern.
    pub fn new(raw: &str, syntax: Syntax) -> Self {
        if raw == "*" && syntax.wildcards {
            return ResourcePattern::Any;
        }
        let segments = split_arn_outside_variables(raw);
        match segments {
            Some(parts) => {
                let [a, b, c, d, e, f] = parts;
                ResourcePattern::Arn(Box::new([
                    Pattern::new(a, syntax),
                    Pattern::new(b, syntax),
                    Pattern::new(c, syntax),
                    Pattern::new(d, syntax),
                    Pattern::new(e, syntax),
                    Pattern::new(f, syntax),
                ]))
            }
            None => ResourcePattern::Other(Pattern::new(raw, syntax)),
        }
    }

    /// Whether the resource `text` matches.
    pub fn matches(&self, text: &str, vars: &dyn Lookup) -> bool {
        match self {
            ResourcePattern::Any => true,
            ResourcePattern::Other(p) => p.matches(text, vars),
            ResourcePattern::Arn(segs) => {
                let mut parts = text.splitn(6, ':');
                segs.iter().all(|seg| parts.next().is_some_and(|part| seg.matches(part, vars)))
            }
        }
    }

    /// Whether this is `*`.
    pub fn is_any(&self) -> bool {
        matches!(self, ResourcePattern::Any)
    }
}

/// Splits `arn:...` text into six segments at colons that are not inside `${...}`.
fn split_arn_outside_variables(raw: &str) -> Option<[&str; 6]> {
    if !raw.starts_with("arn:") {
        return None;
    }
    let mut cuts = [0usize; 5];
    let mut n = 0;
    let mut depth = 0;
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() && n < 5 {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                cuts[n] = i;
                n += 1;
            }
            _ => {}
        }
        i += 1;
    }
    if n < 5 {
        return None;
    }
    // The cuts are at ASCII colons, so every bound is a character boundary.
    Some([
        raw.get(..cuts[0])?,
        raw.get(cuts[0] + 1..cuts[1])?,
        raw.get(cuts[1] + 1..cuts[2])?,
        raw.get(cuts[2] + 1..cuts[3])?,
        raw.get(cuts[3] + 1..cuts[4])?,
        raw.get(cuts[4] + 1..)?,
    ])
}

/// `arn:${Partition}:s3:::${BucketName}` -> `arn:*:s3:::*`: template and policy variables become
/// wildcards, for overlap tests.
pub fn variables_as_wildcards(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, body)) = rest.split_once("${") {
        out.push_str(before);
        match body.split_once('}') {
            Some((inner, after)) => {
                out.push_str(match inner {
                    "*" | "?" | "$" => inner,
                    _ => "*",
                });
                rest = after;
            }
            None => {
                out.push_str("${");
                out.push_str(body);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RequestContext;

    const FULL: Syntax = Syntax { wildcards: true, variables: true };

    fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
        let mut c = RequestContext::new();
        for (k, v) in pairs {
            c.set(k, *v);
        }
        c
    }

    #[test]
    fn variables_substitute() {
        let p = Pattern::new("home/${aws:username}/*", FULL);
        assert!(p.matches("home/alice/x", &ctx(&[("aws:username", "alice")])));
        assert!(!p.matches("home/bob/x", &ctx(&[("aws:username", "alice")])));
        assert!(!p.matches("home//x", &ctx(&[])), "a missing variable matches nothing");
    }

    #[test]
    fn variable_values_are_literal() {
        let p = Pattern::new("${aws:username}", FULL);
        assert!(!p.matches("alice", &ctx(&[("aws:username", "*")])));
        assert!(p.matches("*", &ctx(&[("aws:username", "*")])));
    }

    #[test]
    fn escapes_and_defaults() {
        let p = Pattern::new("a${*}b${?}${$}", FULL);
        assert!(p.matches("a*b?$", &ctx(&[])));
        assert!(!p.matches("aXXb?$", &ctx(&[])));
        let d = Pattern::new("team/${aws:PrincipalTag/team, 'company-wide'}", FULL);
        assert!(d.matches("team/company-wide", &ctx(&[])));
        assert!(d.matches("team/red", &ctx(&[("aws:principaltag/team", "red")])));
    }

    #[test]
    fn variables_off_under_old_version() {
        let p = Pattern::new("home/${aws:username}", Syntax { wildcards: true, variables: false });
        assert!(p.matches("home/${aws:username}", &ctx(&[("aws:username", "alice")])));
        assert!(!p.matches("home/alice", &ctx(&[("aws:username", "alice")])));
    }

    #[test]
    fn malformed_variables_are_literal_and_reported() {
        let p = Pattern::new("a${oops", FULL);
        assert!(p.matches("a${oops", &ctx(&[])));
        assert_eq!(variable_problems("a${oops").len(), 1);
        assert!(variable_problems("${aws:username}/${*}").is_empty());
    }

    #[test]
    fn multibyte_text_next_to_every_cut_is_safe() {
        // Multibyte characters right beside each place the compiler and the matcher cut the text:
        // `${`, `}`, `,`, `'`, ARN colons, `*` and `?`.
        let raws = [
            "é${é}é",
            "€${",
            "${€",
            "ü${aws:username, 'ü'}ü",
            "arn:é:ü::ñ:${é:ü}:ß",
            "arn:€",
            "ü*é?ñ",
            "${*}é${?}ü${$}€",
            "}€${€,'€'}",
            "*€*",
            "?",
        ];
        let texts = ["", "€", "éé€", "üxxé€ñ", "arn:é:ü::ñ:x:ß", "ü€é€ñ", "\u{10ffff}"];
        let vars = ctx(&[("aws:username", "é€")]);
        for raw in raws {
            for syntax in [FULL, Syntax { wildcards: false, variables: true }] {
                let p = Pattern::new(raw, syntax);
                let r = ResourcePattern::new(raw, syntax);
                for text in texts {
                    let _ = p.matches(text, &vars);
                    let _ = r.matches(text, &vars);
                }
            }
            let _ = variable_problems(raw);
            let _ = variables_as_wildcards(raw);
        }
        assert!(Pattern::new("ü*é?ñ", FULL).matches("üxxé€ñ", &vars));
        assert!(!Pattern::new("ü*é?ñ", FULL).matches("üé€€ñ", &vars));
        assert!(Pattern::new("ü${aws:username}*", FULL).matches("üé€ß", &vars));
        assert!(Pattern::new("${€", FULL).matches("${€", &vars));
        assert!(ResourcePattern::new("arn:aws:s3:::ü/*", FULL).matches("arn:aws:s3:::ü/é:ß", &vars));
        assert_eq!(variables_as_wildcards("é${ü}€${é"), "é*€${é");
        assert_eq!(variable_problems("€${é"), vec!["malformed policy variable \"${é\" is matched literally"]);
        // The JSON reader around multibyte text: values, a bad character, a string cut short.
        assert_eq!(crate::json::parse("\"é\\u00e9€\"").unwrap().as_str(), Some("éé€"));
        assert_eq!(crate::json::parse("[1, é]").unwrap_err().offset, 4);
        assert!(crate::json::parse("\"é€").is_err());
        assert!(crate::json::parse("\"\\u00é\"").is_err());
        assert!(crate::json::parse("-é").is_err());
    }

    #[test]
    fn arn_segments_match_separately() {
        let r = ResourcePattern::new("arn:aws:s3:::bucket/*", FULL);
        assert!(r.matches("arn:aws:s3:::bucket/a:b:c", &ctx(&[])));
        assert!(!r.matches("arn:aws:s3:::other/x", &ctx(&[])));
        let r = ResourcePattern::new("arn:aws:iam::*:role/x", FULL);
        assert!(r.matches("arn:aws:iam::123456789012:role/x", &ctx(&[])));
        // A wildcard in the account segment does not swallow the colon of the next segment.
        let r = ResourcePattern::new("arn:aws:dynamodb:*:*", FULL);
        assert!(r.matches("arn:aws:dynamodb:us-east-1:123:table/t", &ctx(&[])));
        let r = ResourcePattern::new("arn:aws:dynamodb:us-*:123:table/t", FULL);
        assert!(!r.matches("arn:aws:dynamodb:us-east-1:999:x:123:table/t", &ctx(&[])));
        assert!(!ResourcePattern::new("arn:aws:s3:::b", FULL).matches("*", &ctx(&[])));
        assert!(ResourcePattern::new("*", FULL).matches("anything", &ctx(&[])));
    }

    #[test]
    fn templates_become_wildcards() {
        assert_eq!(
            variables_as_wildcards("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            "arn:*:s3:::*/*"
        );
        assert_eq!(variables_as_wildcards("a${*}b${oops"), "a*b${oops");
    }

    #[test]
    fn variable_with_colon_stays_in_its_segment() {
        let r = ResourcePattern::new("arn:aws:s3:::b/${aws:PrincipalTag/x, 'a:b'}", FULL);
        assert!(r.matches("arn:aws:s3:::b/a:b", &ctx(&[])));
    }
}
