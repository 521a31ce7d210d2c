//! IAM wildcard matching: `*` matches any run of characters (including none), `?` matches exactly one
//! character. No other glob syntax exists in IAM: `[`, `{` and `\` are ordinary characters.
//!
//! The matcher works on a sequence of [`Piece`]s so that callers can mix literal text that must not be
//! read as wildcards (for example the value of a policy variable, or the `${*}` escape) with real
//! wildcards. It runs in linear time for typical patterns and never allocates.

/// One element of a wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text that must match exactly (after the caller's case folding).
    Literal(&'a str),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Whether `text` matches the wildcard `pattern` (`*` and `?`), case-sensitively.
pub fn matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let mut pieces = Vec::new();
    split_into(pattern, &mut pieces);
    matches_pieces(&pieces, text)
}

/// Whether `text` matches `pattern` ignoring ASCII case (IAM action names are ASCII).
pub fn matches_ignore_ascii_case(pattern: &str, text: &str) -> bool {
    if pattern.bytes().any(|b| b.is_ascii_uppercase()) || text.bytes().any(|b| b.is_ascii_uppercase()) {
        matches(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
    } else {
        matches(pattern, text)
    }
}

/// Splits a raw wildcard pattern into pieces, appending them to `out`.
pub fn split_into<'a>(pattern: &'a str, out: &mut Vec<Piece<'a>>) {
    // Each part ends with at most one wildcard, and only as its last character.
    for part in pattern.split_inclusive(['*', '?']) {
        let (literal, wildcard) = if let Some(literal) = part.strip_suffix('*') {
            (literal, Some(Piece::Star))
        } else if let Some(literal) = part.strip_suffix('?') {
            (literal, Some(Piece::One))
        } else {
            (part, None)
        };
        if !literal.is_empty() {
            out.push(Piece::Literal(literal));
        }
        out.extend(wildcard);
    }
}

/// Something that can be viewed as a [`Piece`]: lets compiled patterns own their text and still use
/// the one matcher.
pub trait AsPiece {
    /// This element as a piece.
    fn piece(&self) -> Piece<'_>;
}

impl AsPiece for Piece<'_> {
    fn piece(&self) -> Piece<'_> {
        *self
    }
}

/// Whether the pattern given as pieces matches `text` exactly (anchored at both ends).
pub fn matches_pieces<P: AsPiece>(pieces: &[P], text: &str) -> bool {
    // The next piece, and the unmatched rest of `text` (a suffix: matching never indexes into it).
    let mut p = 0;
    let mut t = text;
    // Where to resume after the most recent `*`: (piece after the star, text it last tried).
    let mut resume: Option<(usize, &str)> = None;
    loop {
        if p < pieces.len() {
            match pieces[p].piece() {
                Piece::Star => {
                    // Collapse consecutive stars.
                    while p < pieces.len() && pieces[p].piece() == Piece::Star {
                        p += 1;
                    }
                    if p == pieces.len() {
                        return true;
                    }
                    // Jump straight to the next occurrence of a following literal.
                    if let Piece::Literal(lit) = pieces[p].piece() {
                        match skip_to(t, lit) {
                            Some(found) => t = found,
                            None => return false,
                        }
                    }
                    resume = Some((p, t));
                    continue;
                }
                Piece::One => {
                    let mut chars = t.chars();
                    if chars.next().is_some() {
                        t = chars.as_str();
                        p += 1;
                        continue;
                    }
                }
                Piece::Literal(lit) => {
                    if let Some(after) = t.strip_prefix(lit) {
                        t = after;
                        p += 1;
                        continue;
                    }
                }
            }
        } else if t.is_empty() {
            return true;
        }
        // Mismatch: let the last star swallow one more character and retry from there.
        let Some((rp, rt)) = resume else { return false };
        let mut chars = rt.chars();
        if chars.next().is_none() {
            return false;
        }
        let mut nt = chars.as_str();
        if let Piece::Literal(lit) = pieces[rp].piece() {
            match skip_to(nt, lit) {
                Some(found) => nt = found,
                None => return false,
            }
        }
        resume = Some((rp, nt));
        p = rp;
        t = nt;
    }
}

/// `text` from the first occurrence of `lit` on, if it occurs.
fn skip_to<'t>(text: &'t str, lit: &str) -> Option<&'t str> {
    text.find(lit).and_then(|off| text.get(off..))
}

/// Whether some text matches both wildcard patterns (`*` and `?` in each). Used to tell whether a
/// resource pattern in a policy can ever name a resource of a given ARN format.
pub fn overlap(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // seen[i][j]: state (i, j) already explored without success.
    let mut seen = vec![false; (a.len() + 1) * (b.len() + 1)];
    overlap_from(&a, &b, 0, 0, &mut seen)
}

fn overlap_from(a: &[char], b: &[char], i: usize, j: usize, seen: &mut [bool]) -> bool {
    let idx = i * (b.len() + 1) + j;
    if seen[idx] {
        return false;
    }
    seen[idx] = true;
    match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some('*'), _) if overlap_from(a, b, i + 1, j, seen) => true,
        (_, Some('*')) if overlap_from(a, b, i, j + 1, seen) => true,
        (Some('*'), Some('*')) => overlap_from(a, b, i + 1, j, seen) || overlap_from(a, b, i, j + 1, seen),
        // A star consumes one character produced by the other side.
        (Some('*'), Some(_)) => overlap_from(a, b, i, j + 1, seen),
        (Some(_), Some('*')) => overlap_from(a, b, i + 1, j, seen),
        (Some(x), Some(y)) => (*x == '?' || *y == '?' || x == y) && overlap_from(a, b, i + 1, j + 1, seen),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_exact() {
        assert!(matches("s3:GetObject", "s3:GetObject"));
        assert!(!matches("s3:GetObject", "s3:GetObjectAcl"));
        assert!(!matches("s3:getobject", "s3:GetObject"));
    }

    #[test]
    fn star_and_question_mark() {
        assert!(matches("s3:Get*", "s3:GetObject"));
        assert!(matches("s3:Get*", "s3:Get"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("a?c", "aéc"));
        assert!(matches("*ab", "aab"));
        assert!(matches("*aab", "aaab"));
        assert!(matches("a*ab", "aab"));
        assert!(!matches("a*ab", "ab"));
        assert!(matches("*?", "x"));
        assert!(!matches("*?", ""));
    }

    #[test]
    fn other_glob_syntax_is_literal() {
        assert!(matches("a[bc]", "a[bc]"));
        assert!(!matches("a[bc]", "ab"));
        assert!(matches("{a,b}", "{a,b}"));
        assert!(matches("a\\*", "a\\xyz"));
    }

    #[test]
    fn ignore_ascii_case() {
        assert!(matches_ignore_ascii_case("S3:get*", "s3:GetObject"));
        assert!(matches_ignore_ascii_case("*:describe*", "EC2:DescribeInstances"));
    }

    #[test]
    fn overlapping_patterns() {
        assert!(overlap("arn:*:s3:::*/*", "arn:aws:s3:::bucket/*"));
        assert!(overlap("arn:*:s3:::*/*", "arn:aws:s3:::*"));
        assert!(!overlap("arn:*:s3:::*/*", "arn:aws:s3:::bucket"));
        assert!(overlap("a?c", "*c"));
        assert!(!overlap("ab", "a"));
        assert!(overlap("*", ""));
        assert!(!overlap("?", ""));
    }

    #[test]
    fn literal_pieces_hide_wildcards() {
        let pieces = [Piece::Literal("a*"), Piece::Star];
        assert!(matches_pieces(&pieces, "a*bc"));
        assert!(!matches_pieces(&pieces, "abc"));
    }
}
