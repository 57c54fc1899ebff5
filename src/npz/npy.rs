//! Reading one `.npy` member: our own header parser and data decoder.
//!
//! The header is a Python dict literal (`{'descr': '<f8', 'fortran_order': False, 'shape':
//! (3, 4), }`). It is parsed in one left-to-right pass over at most [`MAX_HEADER`] bytes:
//! only the three keys numpy writes, a plain dtype string for `descr` (a structured dtype is
//! refused at its first `[`, never parsed), booleans and a tuple of whole numbers. Nothing
//! is allocated from a size the file states before that size has been checked against what
//! the caller allows.

use std::io::Read;

/// The longest header accepted, in bytes (numpy's own headers are under 200 bytes; numpy
/// refuses more than 10 000 by default).
pub const MAX_HEADER: usize = 64 * 1024;

/// At most this many dimensions (numpy's own limit is 64).
const MAX_DIMS: usize = 32;

/// What a dtype's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Float,
    Int,
    Uint,
    Bool,
}

/// A plain dtype: kind, size in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DType {
    pub kind: Kind,
    pub size: usize,
    pub big_endian: bool,
}

/// A parsed header: element type, layout, shape, and how many bytes it took (magic and
/// length fields included), so the data's size is `header_len + count * dtype.size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub dtype: DType,
    pub fortran: bool,
    pub shape: Vec<u64>,
    pub header_len: u64,
}

impl Header {
    /// The number of elements, `None` when the product overflows.
    pub fn count(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    /// Bytes of data after the header, `None` on overflow.
    pub fn data_bytes(&self) -> Option<u64> {
        self.count()?.checked_mul(self.dtype.size as u64)
    }
}

/// Reads and parses the header at the start of `r` (which is left at the first data byte).
/// Errors are plain sentences; the caller names the member.
pub fn read_header<R: Read>(r: &mut R) -> Result<Header, String> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|e| format!("not a .npy array: too short for its header ({e})"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (no `\\x93NUMPY` magic)".into());
    }
    let (len, fixed) = match (pre[6], pre[7]) {
        (1, 0) => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|e| format!("truncated .npy header ({e})"))?;
            (u64::from(u16::from_le_bytes(b)), 10)
        }
        (2, 0) | (3, 0) => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|e| format!("truncated .npy header ({e})"))?;
            (u64::from(u32::from_le_bytes(b)), 12)
        }
        (a, b) => {
            return Err(format!(
                ".npy format version {a}.{b} is not 1.0, 2.0 or 3.0"
            ))
        }
    };
    if len > MAX_HEADER as u64 {
        return Err(format!(
            ".npy header of {len} bytes is longer than the {MAX_HEADER} accepted"
        ));
    }
    let mut text = vec![0u8; len as usize];
    r.read_exact(&mut text)
        .map_err(|e| format!("truncated .npy header ({e})"))?;
    let mut h = parse_dict(&text)?;
    h.header_len = fixed + len;
    Ok(h)
}

/// Parses the header dict.
pub fn parse_dict(text: &[u8]) -> Result<Header, String> {
    let mut p = Parser { s: text, i: 0 };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.ws();
    p.expect(b'{')?;
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        match key.as_str() {
            "descr" if descr.is_none() => descr = Some(p.descr()?),
            "fortran_order" if fortran.is_none() => fortran = Some(p.boolean()?),
            "shape" if shape.is_none() => shape = Some(p.shape()?),
            "descr" | "fortran_order" | "shape" => {
                return Err(format!("the .npy header gives `{key}` twice"))
            }
            _ => return Err(format!("the .npy header has an unknown key `{key}`")),
        }
        p.ws();
        if !p.eat(b',') {
            p.ws();
            p.expect(b'}')?;
            break;
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "the .npy header has text after its dict at byte {}",
            p.i
        ));
    }
    let missing = |k: &str| format!("the .npy header has no `{k}`");
    Ok(Header {
        dtype: descr.ok_or_else(|| missing("descr"))?,
        fortran: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
        header_len: 0,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the header".into(),
            Some(c) if c.is_ascii_graphic() => format!("`{}`", c as char),
            Some(c) => format!("byte 0x{c:02x}"),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed .npy header: expected `{}` at byte {}, found {}",
                c as char,
                self.i,
                self.found()
            ))
        }
    }

    /// A quoted string without escapes (numpy's keys and dtype strings have none).
    fn string(&mut self) -> Result<String, String> {
        let q = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "malformed .npy header: expected a quoted key or string at byte {}, found {}",
                    self.i,
                    self.found()
                ))
            }
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == q || c == b'\\')
            .ok_or("malformed .npy header: an unterminated string")?;
        if self.s[start + len] == b'\\' {
            return Err("the .npy header has a string with an escape".into());
        }
        self.i = start + len + 1;
        String::from_utf8(self.s[start..start + len].to_vec())
            .map_err(|_| "the .npy header has a string that is not UTF-8".into())
    }

    fn descr(&mut self) -> Result<DType, String> {
        match self.peek() {
            Some(b'[' | b'(' | b'{') => Err(
                "structured (record) dtypes are not supported: expected a plain dtype such as '<f8'"
                    .into(),
            ),
            _ => dtype(&self.string()?),
        }
    }

    fn boolean(&mut self) -> Result<bool, String> {
        for (word, v) in [(&b"True"[..], true), (&b"False"[..], false)] {
            if self.s[self.i..].starts_with(word) {
                self.i += word.len();
                return Ok(v);
            }
        }
        Err(format!(
            "malformed .npy header: `fortran_order` is not True or False at byte {}",
            self.i
        ))
    }

    fn shape(&mut self) -> Result<Vec<u64>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.ws();
            if self.eat(b')') {
                break;
            }
            let start = self.i;
            let mut v: u64 = 0;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                v = v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(c - b'0')))
                    .ok_or("the .npy header's shape has a dimension over 2^64")?;
                self.i += 1;
            }
            if self.i == start {
                return Err(format!(
                    "malformed .npy header: expected a dimension (a whole number >= 0) in `shape` at byte {}, found {}",
                    self.i,
                    self.found()
                ));
            }
            // Python 2 numpy wrote long integers as `3L`.
            self.eat(b'L');
            if dims.len() == MAX_DIMS {
                return Err(format!(
                    "the .npy header's shape has more than {MAX_DIMS} dimensions"
                ));
            }
            dims.push(v);
            self.ws();
            if !self.eat(b',') {
                self.ws();
                self.expect(b')')?;
                break;
            }
        }
        Ok(dims)
    }
}

/// A plain dtype string: byte order (`<`, `>`, `|`, `=` or none), kind and size.
fn dtype(s: &str) -> Result<DType, String> {
    let b = s.as_bytes();
    let (big_endian, rest) = match b.first() {
        Some(b'<') => (false, &b[1..]),
        Some(b'>') => (true, &b[1..]),
        Some(b'|' | b'=') => (cfg!(target_endian = "big"), &b[1..]),
        _ => (cfg!(target_endian = "big"), b),
    };
    let unsupported = || {
        Err(format!(
            "unsupported dtype `{s}` (rnnc reads float64/32, integers, uint and bool arrays)"
        ))
    };
    let (kind, size) = match rest {
        [b'O', ..] => return Err("pickled (object) arrays are never loaded".into()),
        [b'?'] | b"b1" => (Kind::Bool, 1),
        [k @ (b'f' | b'i' | b'u'), digits @ ..] => {
            let size = match digits {
                b"1" => 1,
                b"2" => 2,
                b"4" => 4,
                b"8" => 8,
                _ => return unsupported(),
            };
            let kind = match k {
                b'f' if size >= 4 => Kind::Float,
                b'i' => Kind::Int,
                b'u' => Kind::Uint,
                _ => return unsupported(),
            };
            (kind, size)
        }
        _ => return unsupported(),
    };
    Ok(DType {
        kind,
        size,
        big_endian: big_endian && size > 1,
    })
}

/// Reads `count` elements of `h.dtype` from `r` as f64 in C order. `r` must hold exactly
/// the data (the caller limits it); reading is streamed in blocks, so memory is the result
/// (and, for a Fortran-order matrix, its transpose) and one block.
pub fn read_data<R: Read>(r: &mut R, h: &Header) -> Result<Vec<f64>, String> {
    let count = h.count().ok_or("the shape's element count overflows")?;
    let count = usize::try_from(count).map_err(|_| "the array is too large for this machine")?;
    let size = h.dtype.size;
    let mut out = Vec::with_capacity(count);
    let mut block = vec![0u8; 1 << 16];
    let mut left = count;
    while left > 0 {
        let n = left.min(block.len() / size);
        let buf = &mut block[..n * size];
        r.read_exact(buf).map_err(|e| {
            format!(
                "truncated or corrupt data: {} of {count} values read ({e})",
                count - left
            )
        })?;
        convert(h.dtype, buf, &mut out);
        left -= n;
    }
    if h.fortran && h.shape.len() >= 2 {
        out = from_fortran(&h.shape, &out);
    }
    Ok(out)
}

fn convert(t: DType, buf: &[u8], out: &mut Vec<f64>) {
    macro_rules! each {
        ($ty:ty, $n:literal, $f:expr) => {{
            let f = $f;
            out.extend(buf.chunks_exact($n).map(|c| {
                let a: [u8; $n] = c.try_into().expect("chunk size");
                let v = if t.big_endian {
                    <$ty>::from_be_bytes(a)
                } else {
                    <$ty>::from_le_bytes(a)
                };
                f(v)
            }))
        }};
    }
    match (t.kind, t.size) {
        (Kind::Float, 8) => each!(f64, 8, |v: f64| v),
        (Kind::Float, _) => each!(f32, 4, f64::from),
        (Kind::Int, 1) => each!(i8, 1, f64::from),
        (Kind::Int, 2) => each!(i16, 2, f64::from),
        (Kind::Int, 4) => each!(i32, 4, f64::from),
        (Kind::Int, _) => each!(i64, 8, |v: i64| v as f64),
        (Kind::Uint, 1) => each!(u8, 1, f64::from),
        (Kind::Uint, 2) => each!(u16, 2, f64::from),
        (Kind::Uint, 4) => each!(u32, 4, f64::from),
        (Kind::Uint, _) => each!(u64, 8, |v: u64| v as f64),
        (Kind::Bool, _) => out.extend(buf.iter().map(|&b| f64::from(u8::from(b != 0)))),
    }
}

/// Fortran (column-major) order to C order, any number of dimensions.
fn from_fortran(shape: &[u64], data: &[f64]) -> Vec<f64> {
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    if let [r, c] = shape[..] {
        let mut out = vec![0.0; data.len()];
        for j in 0..c {
            for i in 0..r {
                out[i * c + j] = data[j * r + i];
            }
        }
        return out;
    }
    // General case: walk C order with a multi-index, reading the Fortran offset.
    let mut fstride = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        out.push(data[idx.iter().zip(&fstride).map(|(i, s)| i * s).sum::<usize>()]);
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn numpy_headers_parse() {
        let h = parse_dict(b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }   \n")
            .unwrap();
        assert_eq!(h.shape, vec![3, 4]);
        assert!(!h.fortran);
        assert_eq!(
            h.dtype,
            DType {
                kind: Kind::Float,
                size: 8,
                big_endian: false
            }
        );
        let h =
            parse_dict(b"{\"shape\": (5L,), \"fortran_order\": True, \"descr\": \">i2\"}").unwrap();
        assert_eq!(
            (h.shape, h.fortran, h.dtype.big_endian),
            (vec![5], true, true)
        );
        let h = parse_dict(b"{'descr': '|b1', 'fortran_order': False, 'shape': ()}").unwrap();
        assert_eq!((h.shape.len(), h.count()), (0, Some(1)));
    }

    #[test]
    fn hostile_headers_are_errors() {
        for (text, want) in [
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}",
                "structured",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (3,)}",
                "pickled",
            ),
            (
                "{'descr': '<c16', 'fortran_order': False, 'shape': (3,)}",
                "unsupported dtype `<c16`",
            ),
            (
                "{'descr': '<f2', 'fortran_order': False, 'shape': (3,)}",
                "unsupported dtype",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,)}",
                "expected a dimension",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                "over 2^64",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}",
                "True or False",
            ),
            ("{'descr': '<f8', 'shape': (3,)}", "no `fortran_order`"),
            (
                "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
                "twice",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                "unknown key `x`",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x",
                "text after",
            ),
            ("{'descr': '<f8", "unterminated"),
            ("", "expected `{`"),
        ] {
            let e = parse_dict(text.as_bytes()).expect_err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
        // Deep nesting is refused at its first bracket, in time linear in nothing.
        let deep = format!("{{'descr': {}", "[(".repeat(100_000));
        assert!(parse_dict(deep.as_bytes())
            .unwrap_err()
            .contains("structured"));
    }

    #[test]
    fn header_length_is_bounded_before_reading() {
        let mut v = b"\x93NUMPY\x02\x00".to_vec();
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        let e = read_header(&mut &v[..]).unwrap_err();
        assert!(e.contains("longer than the 65536"), "{e}");
        let e = read_header(&mut &b"\x93NUMPY\x07\x00"[..]).unwrap_err();
        assert!(e.contains("version 7.0"), "{e}");
    }

    #[test]
    fn data_decodes_every_dtype_and_order() {
        let le: Vec<u8> = [1.5f64, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let be: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let i2: Vec<u8> = [-7i16, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
        let u4: Vec<u8> = [7u32, 4_000_000_000]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        for (descr, data, want) in [
            ("<f8", le, vec![1.5, -2.0]),
            (">f4", be, vec![1.5, -2.0]),
            ("<i2", i2, vec![-7.0, 300.0]),
            (">u4", u4, vec![7.0, 4e9]),
            ("|b1", vec![0, 3], vec![0.0, 1.0]),
            ("|i1", vec![0xff, 1], vec![-1.0, 1.0]),
        ] {
            let f = npy(
                &format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}\n"),
                &data,
            );
            let mut r = &f[..];
            let h = read_header(&mut r).unwrap();
            assert_eq!(read_data(&mut r, &h).unwrap(), want, "{descr}");
        }
        // Fortran order: (2, 3) stored column by column; and a 3-D array.
        let h = Header {
            dtype: DType {
                kind: Kind::Uint,
                size: 1,
                big_endian: false,
            },
            fortran: true,
            shape: vec![2, 3],
            header_len: 0,
        };
        let got = read_data(&mut &[1u8, 4, 2, 5, 3, 6][..], &h).unwrap();
        assert_eq!(got, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let h3 = Header {
            shape: vec![2, 1, 2],
            ..h
        };
        // C order a[i, 0, k] = 10 i + k; Fortran stores i fastest.
        let got = read_data(&mut &[0u8, 10, 1, 11][..], &h3).unwrap();
        assert_eq!(got, vec![0.0, 1.0, 10.0, 11.0]);
        let e = read_data(
            &mut &[1u8, 2][..],
            &Header {
                fortran: false,
                ..h3
            },
        )
        .unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }
}
