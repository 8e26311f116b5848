//! Telling a JSON document from JSONL by its first line.

/// Whether `head`, the first bytes of an input (decompressed), starts a JSON document
/// rather than JSONL: an array; an object alone on its first line, as pretty-printers
/// start one; or an object with a `"data"` array at its top level on its first line (a
/// list page, even one per line). A JSONL whose first line is cut short or broken stays
/// JSONL: only those shapes switch the reader.
pub fn detect(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    match head[first] {
        b'[' => return true,
        b'{' => {}
        _ => return false,
    }
    let line = &head[first..];
    let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
    if line[1..].iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut key = KeyBuf::default();
    let mut after_data_key = false;
    for &b in line {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            } else if depth == 1 {
                key.push(b);
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                if depth == 1 {
                    key.clear();
                }
            }
            b':' if depth == 1 => {
                after_data_key = key.is(b"data");
                continue;
            }
            b'[' if depth == 1 && after_data_key => return true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            after_data_key = false;
        }
    }
    false
}

/// The first bytes of a key, enough to tell `data` from the rest.
#[derive(Default)]
pub(super) struct KeyBuf {
    bytes: [u8; 8],
    len: usize,
    over: bool,
}

impl KeyBuf {
    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.over = false;
    }
    pub(super) fn push(&mut self, b: u8) {
        if self.len < self.bytes.len() {
            self.bytes[self.len] = b;
            self.len += 1;
        } else {
            self.over = true;
        }
    }
    pub(super) fn is(&self, key: &[u8]) -> bool {
        !self.over && &self.bytes[..self.len] == key
    }
}
