//! A structural JSON splitter: finds the elements of a JSON array (the `Records` of a CloudTrail log
//! file) without parsing their values.
//!
//! The text is classified 64 bytes at a time into bit masks (quotes, backslashes, opening and closing
//! brackets; SSE2 on x86-64), in the manner of simdjson's stage 1: escaped quotes are removed with the
//! backslash runs, the inside of strings is the prefix-XOR of the remaining quotes, and only brackets
//! outside strings are visited, one bit at a time, to track the depth. An element starts where the
//! depth rises from the array's level and ends where it returns to it. Nothing else is looked at, so
//! the cost per byte is a handful of vector instructions.
//!
//! The splitter trusts the text to be JSON: on malformed text it still returns the bytes between
//! balanced brackets, and the parser that reads a slice afterwards rejects it. Text that ends before
//! the array closes is reported as truncated, after every complete element has been handed out.

/// One element of an array, as byte offsets into the text (`start..end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// An object (or an array): balanced brackets.
    Container(usize, usize),
    /// Anything else between two commas (a number, a string, `null`, or junk).
    Other(usize, usize),
}

/// Why a text could not be split to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// The text ended inside the array (or inside a string); every element before `at` was handed
    /// out, and reading on from `at` (behind a `[`) finds the rest.
    Truncated {
        /// Where the first incomplete element starts (or the last complete one ends).
        at: usize,
    },
}

/// Masks of one 64-byte block: bit i is byte i.
#[derive(Clone, Copy)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify_avx2(block: &[u8; 64]) -> Masks {
    use core::arch::x86_64::*;
    // SAFETY: only called from `split_avx2`, which runs when the CPU has AVX2; the loads are
    // unaligned and within the 64-byte block.
    unsafe {
        let q = _mm256_set1_epi8(b'"' as i8);
        let b = _mm256_set1_epi8(b'\\' as i8);
        let lower = _mm256_set1_epi8(0x20);
        let o = _mm256_set1_epi8(0x7B);
        let c = _mm256_set1_epi8(0x7D);
        let lo = _mm256_loadu_si256(block.as_ptr() as *const __m256i);
        let hi = _mm256_loadu_si256(block.as_ptr().add(32) as *const __m256i);
        let mask = |v: __m256i, x: __m256i| _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, x)) as u32 as u64;
        let (flo, fhi) = (_mm256_or_si256(lo, lower), _mm256_or_si256(hi, lower));
        Masks {
            quote: mask(lo, q) | mask(hi, q) << 32,
            backslash: mask(lo, b) | mask(hi, b) << 32,
            open: mask(flo, o) | mask(fhi, o) << 32,
            close: mask(flo, c) | mask(fhi, c) << 32,
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8; 64]) -> Masks {
    use core::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; loads are unaligned and within the 64-byte block.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let b = _mm_set1_epi8(b'\\' as i8);
        let lower = _mm_set1_epi8(0x20);
        // `{` is 0x7B and `[` is 0x5B: OR-ing 0x20 folds them together; `}`/`]` likewise to 0x7D.
        let o = _mm_set1_epi8(0x7B);
        let c = _mm_set1_epi8(0x7D);
        let mut m = Masks { quote: 0, backslash: 0, open: 0, close: 0 };
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(i * 16) as *const __m128i);
            let f = _mm_or_si128(v, lower);
            let sh = i * 16;
            m.quote |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)) as u16 as u64) << sh;
            m.backslash |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, b)) as u16 as u64) << sh;
            m.open |= (_mm_movemask_epi8(_mm_cmpeq_epi8(f, o)) as u16 as u64) << sh;
            m.close |= (_mm_movemask_epi8(_mm_cmpeq_epi8(f, c)) as u16 as u64) << sh;
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(block: &[u8; 64]) -> Masks {
    let mut m = Masks { quote: 0, backslash: 0, open: 0, close: 0 };
    for (i, &byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte | 0x20 {
            0x7B => m.open |= bit,
            0x7D => m.close |= bit,
            _ => {}
        }
        if byte == b'"' {
            m.quote |= bit;
        } else if byte == b'\\' {
            m.backslash |= bit;
        }
    }
    m
}

/// XOR of all lower bits, inclusive: bit i is set when an odd number of bits 0..=i are set.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The bytes escaped by a backslash. `carry` is 1 when the previous block ended in an unpaired
/// backslash (so byte 0 is escaped), and is updated for the next block.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    if backslash == 0 && *carry == 0 {
        return 0;
    }
    let mut escaped = *carry;
    let mut b = backslash & !*carry;
    *carry = 0;
    while b != 0 {
        let i = b.trailing_zeros();
        if i == 63 {
            *carry = 1;
            break;
        }
        escaped |= 1 << (i + 1);
        // The escaped byte is not itself an escape, even if it is a backslash.
        b &= !(3u64 << i);
    }
    escaped
}

/// Scans the array (or object) that opens at `text[open]`, calling `on_element` for each element in
/// order, and returns the offset just past its closing bracket.
///
/// With `elements` false, only the end is found (to skip a value).
pub fn split_array(
    text: &[u8],
    open: usize,
    elements: bool,
    on_element: impl FnMut(Element),
) -> Result<usize, SplitError> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { split_avx2(text, open, elements, on_element) };
    }
    split_impl::<false>(text, open, elements, on_element)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn split_avx2(
    text: &[u8],
    open: usize,
    elements: bool,
    on_element: impl FnMut(Element),
) -> Result<usize, SplitError> {
    split_impl::<true>(text, open, elements, on_element)
}

#[inline(always)]
fn split_impl<const AVX2: bool>(
    text: &[u8],
    open: usize,
    elements: bool,
    mut on_element: impl FnMut(Element),
) -> Result<usize, SplitError> {
    debug_assert!(matches!(text.get(open), Some(b'[' | b'{')));
    // The array's own bracket (bit 0 of the first block) is depth 1, set here and masked below.
    let mut depth: u32 = 1;
    let mut first = !1u64;
    let mut in_string: u64 = 0; // all ones while inside a string at a block boundary
    let mut carry: u64 = 0;
    let mut gap_start = open + 1;
    let mut commas_expected = 0usize;
    let mut elem_start = 0usize;
    let mut last_end = open;
    let mut pos = open;
    let mut tail = [b' '; 64];
    while pos < text.len() {
        let rest = &text[pos..];
        let block: &[u8; 64] = match rest.first_chunk::<64>() {
            Some(b) => b,
            None => {
                tail.fill(b' ');
                tail[..rest.len()].copy_from_slice(rest);
                &tail
            }
        };
        #[cfg(target_arch = "x86_64")]
        let m = if AVX2 { classify_avx2(block) } else { classify(block) };
        #[cfg(not(target_arch = "x86_64"))]
        let m = classify(block);
        let esc = escaped(m.backslash, &mut carry);
        let quotes = m.quote & !esc;
        let inside = prefix_xor(quotes) ^ in_string;
        in_string = ((inside as i64) >> 63) as u64;
        let open_bits = m.open & !inside;
        let mut structural = (open_bits | m.close) & !inside & first;
        first = !0;
        while structural != 0 {
            let i = structural.trailing_zeros();
            structural &= structural - 1;
            // Branch-free depth: +1 for an opening bracket, -1 for a closing one. Only the rare
            // transitions at the array's level (depth 2 after an opening, 1 or 0 after a closing)
            // take the branch.
            let is_open = (open_bits >> i) as u32 & 1;
            depth = depth.wrapping_add(2 * is_open).wrapping_sub(1);
            if depth.wrapping_sub(is_open) <= 1 {
                let at = pos + i as usize;
                if is_open == 1 {
                    if elements {
                        gap(text, gap_start, at, commas_expected, &mut on_element);
                    }
                    elem_start = at;
                    last_end = at;
                } else if depth == 1 {
                    if elements {
                        on_element(Element::Container(elem_start, at + 1));
                    }
                    last_end = at + 1;
                    gap_start = at + 1;
                    commas_expected = 1;
                } else {
                    if depth == 0 && elements {
                        gap(text, gap_start, at, 0, &mut on_element);
                    }
                    return Ok(at + 1);
                }
            }
        }
        pos += 64;
    }
    Err(SplitError::Truncated { at: last_end })
}

/// Checks the bytes between two elements: whitespace and the expected number of commas, or else
/// something that is not a container (reported as [`Element::Other`]).
#[inline(always)]
fn gap(text: &[u8], from: usize, to: usize, commas_expected: usize, on_element: &mut impl FnMut(Element)) {
    let bytes = &text[from..to];
    if bytes.len() == commas_expected && bytes.iter().all(|&b| b == b',') {
        return; // the usual `,` (or nothing)
    }
    // Split the gap on the commas outside strings; each non-blank piece is one element.
    let is_ws = |b: &u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    let mut emitted = false;
    let mut piece = 0;
    let mut commas = 0;
    let (mut in_str, mut esc) = (false, false);
    for i in 0..=bytes.len() {
        let b = bytes.get(i).copied();
        if in_str {
            match b {
                _ if esc => esc = false,
                Some(b'\\') => esc = true,
                Some(b'"') => in_str = false,
                _ => {}
            }
            if b.is_some() {
                continue;
            }
        }
        match b {
            Some(b'"') => in_str = true,
            Some(b',') | None => {
                commas += usize::from(b.is_some());
                let p = &bytes[piece..i];
                if let (Some(s), Some(e)) =
                    (p.iter().position(|b| !is_ws(b)), p.iter().rposition(|b| !is_ws(b)))
                {
                    on_element(Element::Other(from + piece + s, from + piece + e + 1));
                    emitted = true;
                }
                piece = i + 1;
            }
            _ => {}
        }
    }
    if !emitted && commas != commas_expected {
        on_element(Element::Other(from, to));
    }
}

/// Skips JSON whitespace (and a leading byte-order mark).
pub fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    if pos == 0 && text.starts_with(b"\xEF\xBB\xBF") {
        pos = 3;
    }
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = text.get(pos) {
        pos += 1;
    }
    pos
}

/// The offset just past the string that starts with the quote at `text[at]`.
pub fn string_end(text: &[u8], at: usize) -> Option<usize> {
    let mut pos = at + 1;
    loop {
        let i = memchr::memchr2(b'"', b'\\', &text[pos..])?;
        match text[pos + i] {
            b'"' => return Some(pos + i + 1),
            _ => pos += i + 2,
        }
        if pos > text.len() {
            return None;
        }
    }
}

/// What a JSON document holds, as far as the reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A CloudTrail log file: the `[` of `Records` is at this offset.
    Records(usize),
    /// The output of `aws cloudtrail lookup-events`: the `[` of `Events` is at this offset.
    LookupEvents(usize),
}

/// Why a document is not one the reader can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// The text is empty or only whitespace.
    Empty,
    /// The text ends early.
    Truncated,
    /// Something else, with a reason for people.
    Not(&'static str),
}

/// Finds the `Records` (or lookup-events `Events`) array of a document by walking its top-level
/// object, skipping the values of other keys.
pub fn shape(text: &[u8]) -> Result<Shape, ShapeError> {
    let mut pos = skip_ws(text, 0);
    match text.get(pos) {
        None => return Err(ShapeError::Empty),
        Some(b'{') => {}
        Some(_) => return Err(ShapeError::Not("not a CloudTrail log file: not a JSON object")),
    }
    let mut events = None;
    pos += 1;
    loop {
        pos = skip_ws(text, pos);
        match text.get(pos) {
            None => return Err(ShapeError::Truncated),
            Some(b'}') => break,
            Some(b'"') => {}
            Some(_) => return Err(ShapeError::Not("not a CloudTrail log file: invalid JSON")),
        }
        let key_end = string_end(text, pos).ok_or(ShapeError::Truncated)?;
        let key = &text[pos + 1..key_end - 1];
        pos = skip_ws(text, key_end);
        match text.get(pos) {
            None => return Err(ShapeError::Truncated),
            Some(b':') => {}
            Some(_) => return Err(ShapeError::Not("not a CloudTrail log file: invalid JSON")),
        }
        pos = skip_ws(text, pos + 1);
        let value = pos;
        pos = match text.get(pos) {
            None => return Err(ShapeError::Truncated),
            Some(b'[') if key == b"Records" => return Ok(Shape::Records(value)),
            Some(b'[') if key == b"Events" && events.is_none() => {
                events = Some(value);
                split_array(text, pos, false, |_| {}).map_err(|_| ShapeError::Truncated)?
            }
            Some(b'[' | b'{') => split_array(text, pos, false, |_| {}).map_err(|_| ShapeError::Truncated)?,
            Some(b'"') => string_end(text, pos).ok_or(ShapeError::Truncated)?,
            Some(_) => {
                let n =
                    text[pos..].iter().position(|b| matches!(b, b',' | b'}')).ok_or(ShapeError::Truncated)?;
                pos + n
            }
        };
        pos = skip_ws(text, pos);
        match text.get(pos) {
            None => return Err(ShapeError::Truncated),
            Some(b',') => pos += 1,
            Some(b'}') => break,
            Some(_) => return Err(ShapeError::Not("not a CloudTrail log file: invalid JSON")),
        }
    }
    match events {
        Some(at) => Ok(Shape::LookupEvents(at)),
        None => Err(ShapeError::Not("not a CloudTrail log file: no Records array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> (Vec<String>, Vec<String>, Result<usize, SplitError>) {
        let open = text.find('[').unwrap();
        let mut objs = vec![];
        let mut other = vec![];
        let r = split_array(text.as_bytes(), open, true, |e| match e {
            Element::Container(s, e) => objs.push(text[s..e].to_string()),
            Element::Other(s, e) => other.push(text[s..e].to_string()),
        });
        (objs, other, r)
    }

    #[test]
    fn splits_objects_with_tricky_strings() {
        let t = r#"{"Records":[{"a":"}{\"]"},{"b":{"c":[1,{"d":"\\"}]}} , {"e":"\\\"}"}]}"#;
        let (objs, other, r) = split(t);
        assert_eq!(objs, vec![r#"{"a":"}{\"]"}"#, r#"{"b":{"c":[1,{"d":"\\"}]}}"#, r#"{"e":"\\\"}"}"#]);
        assert!(other.is_empty());
        assert_eq!(r, Ok(t.len() - 1));
    }

    #[test]
    fn reports_scalars_and_truncation() {
        let (objs, other, r) = split(r#"[null, {"a":1}, "x{", 3]"#);
        assert_eq!(objs, vec![r#"{"a":1}"#]);
        assert_eq!(other, vec!["null", r#""x{""#, "3"]);
        assert!(r.is_ok());
        let (objs, _, r) = split(r#"[{"a":1},{"b":"#);
        assert_eq!(objs, vec![r#"{"a":1}"#]);
        assert_eq!(r, Err(SplitError::Truncated { at: 9 }));
        let (objs, other, r) = split("[]");
        assert!(objs.is_empty() && other.is_empty() && r == Ok(2));
    }

    #[test]
    fn long_strings_across_blocks() {
        let s = "\\\"".repeat(40) + &"x".repeat(63) + "\\\\";
        let t = format!(r#"[{{"k":"{s}"}},{{"k":"{s}{{"}}]"#);
        let (objs, other, r) = split(&t);
        assert_eq!(objs.len(), 2, "{objs:?}");
        assert!(other.is_empty());
        assert_eq!(r, Ok(t.len()));
        for o in objs {
            serde_json::from_str::<serde_json::Value>(&o).unwrap();
        }
    }

    #[test]
    fn portable_and_vector_paths_agree() {
        let s = "\\\"".repeat(33) + "{[" + &"\\".repeat(31) + "]}";
        let t = format!(r#"{{"Records":[{{"k":"{s}","n":[{{}},[],{{"a":[1,"}}"]}}]}}, 7 ,{{"k":"{s}"}}, {{"#);
        for cut in [t.len(), t.len() - 1, t.len() - 40] {
            let text = &t.as_bytes()[..cut];
            let (mut a, mut b) = (vec![], vec![]);
            let ra = split_impl::<false>(text, 11, true, |e| a.push(e));
            let rb = split_array(text, 11, true, |e| b.push(e));
            assert_eq!((ra, &a), (rb, &b));
            assert_eq!(
                a.iter().filter(|e| matches!(e, Element::Container(..))).count(),
                2 - usize::from(cut < t.len() - 30)
            );
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(br#" {"Records": []}"#), Ok(Shape::Records(13)));
        assert_eq!(shape(br#"{"x":{"Records":[1]},"y":"a\"}","Records":[]}"#), Ok(Shape::Records(42)));
        assert_eq!(shape(br#"{"Events":[{"a":1}],"NextToken":"t"}"#), Ok(Shape::LookupEvents(10)));
        assert_eq!(shape(br#"{"NextToken":null,"Events":[]}"#), Ok(Shape::LookupEvents(27)));
        assert_eq!(shape(b"  "), Err(ShapeError::Empty));
        assert_eq!(shape(br#"{"Rec"#), Err(ShapeError::Truncated));
        assert_eq!(shape(br#"{"a":1}"#), Err(ShapeError::Not("not a CloudTrail log file: no Records array")));
        assert_eq!(shape(br#"[1]"#), Err(ShapeError::Not("not a CloudTrail log file: not a JSON object")));
    }
}
