//! Typed numeric columns with a validity bitmap (one bit per row: set = value present),
//! and the [`Column`] trait every per-row column of a batch implements, so the batch can
//! clear, truncate and copy all of them from one list.

/// A column with one entry per row.
pub trait Column {
    /// An empty column with room for `n` rows.
    fn with_rows(n: usize) -> Self;
    /// Drops all rows, keeping the allocation.
    fn clear_rows(&mut self);
    /// Keeps the first `n` rows.
    fn truncate_rows(&mut self, n: usize);
    /// Appends row `i` of `src`.
    fn push_row_of(&mut self, src: &Self, i: usize);
}

impl<T: Copy> Column for Vec<T> {
    fn with_rows(n: usize) -> Self {
        Vec::with_capacity(n)
    }
    #[inline]
    fn clear_rows(&mut self) {
        self.clear();
    }
    #[inline]
    fn truncate_rows(&mut self, n: usize) {
        self.truncate(n);
    }
    #[inline]
    fn push_row_of(&mut self, src: &Self, i: usize) {
        self.push(src[i]);
    }
}

/// [`Column`] for a type with `with_capacity`, `clear`, `truncate`, `push` and `get`.
macro_rules! column {
    ($name:ident) => {
        impl Column for $name {
            fn with_rows(n: usize) -> Self {
                Self::with_capacity(n)
            }
            fn clear_rows(&mut self) {
                self.clear();
            }
            fn truncate_rows(&mut self, n: usize) {
                self.truncate(n);
            }
            fn push_row_of(&mut self, src: &Self, i: usize) {
                self.push(src.get(i));
            }
        }
    };
}

column!(Validity);

/// A growable bitmap, one bit per row.
#[derive(Debug, Clone, Default)]
pub struct Validity {
    words: Vec<u64>,
    len: usize,
}

impl Validity {
    /// An empty bitmap with room for `n` bits.
    pub fn with_capacity(n: usize) -> Validity {
        Validity {
            words: Vec::with_capacity(n.div_ceil(64)),
            len: 0,
        }
    }

    /// Appends one bit.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        let (w, b) = (self.len / 64, self.len % 64);
        if b == 0 {
            self.words.push(0);
        }
        self.words[w] |= (bit as u64) << b;
        self.len += 1;
    }

    /// Bit `i`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        debug_assert!(i < self.len);
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bits were pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Drops all bits, keeping the allocation.
    pub fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }

    /// Keeps the first `n` bits.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        self.words.truncate(n.div_ceil(64));
        if !n.is_multiple_of(64) {
            if let Some(w) = self.words.last_mut() {
                *w &= (1u64 << (n % 64)) - 1;
            }
        }
        self.len = n;
    }
}

macro_rules! nullable_column {
    ($name:ident, $t:ty) => {
        #[doc = concat!("A nullable `", stringify!($t), "` column: values plus validity.")]
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            values: Vec<$t>,
            valid: Validity,
        }

        impl $name {
            /// An empty column with room for `n` rows.
            pub fn with_capacity(n: usize) -> Self {
                Self {
                    values: Vec::with_capacity(n),
                    valid: Validity::with_capacity(n),
                }
            }

            /// Appends a value or a null (stored as zero, flagged invalid).
            #[inline]
            pub fn push(&mut self, v: Option<$t>) {
                self.values.push(v.unwrap_or_default());
                self.valid.push(v.is_some());
            }

            /// Row `i`, `None` when null.
            #[inline]
            pub fn get(&self, i: usize) -> Option<$t> {
                if self.valid.get(i) {
                    Some(self.values[i])
                } else {
                    None
                }
            }

            /// The raw values; nulls read as zero.
            #[inline]
            pub fn values(&self) -> &[$t] {
                &self.values
            }

            /// The validity bitmap.
            #[inline]
            pub fn validity(&self) -> &Validity {
                &self.valid
            }

            /// Number of rows.
            pub fn len(&self) -> usize {
                self.values.len()
            }

            /// Whether the column has no rows.
            pub fn is_empty(&self) -> bool {
                self.values.is_empty()
            }

            /// Drops all rows, keeping the allocation.
            pub fn clear(&mut self) {
                self.values.clear();
                self.valid.clear();
            }

            /// Keeps the first `n` rows.
            pub fn truncate(&mut self, n: usize) {
                self.values.truncate(n);
                self.valid.truncate(n);
            }
        }

        column!($name);
    };
}

nullable_column!(I64Column, i64);
nullable_column!(U64Column, u64);

/// A nullable text column: the strings of all rows concatenated, with each row's end.
/// Pushing a string copies it into the shared buffer, so nothing is allocated per row
/// once the buffer has grown to a batch's worth.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    text: String,
    /// Row `i` is `text[ends[i - 1]..ends[i]]`.
    ends: Vec<u32>,
    valid: Validity,
}

impl TextColumn {
    /// An empty column with room for `n` rows.
    pub fn with_capacity(n: usize) -> TextColumn {
        TextColumn {
            text: String::new(),
            ends: Vec::with_capacity(n),
            valid: Validity::with_capacity(n),
        }
    }

    /// Appends a string or a null.
    #[inline]
    pub fn push(&mut self, v: Option<&str>) {
        if let Some(s) = v {
            self.text.push_str(s);
        }
        self.ends.push(self.text.len() as u32);
        self.valid.push(v.is_some());
    }

    /// Appends a value as its `Display` text.
    pub fn push_display(&mut self, v: impl std::fmt::Display) {
        use std::fmt::Write as _;
        let _ = write!(self.text, "{v}");
        self.ends.push(self.text.len() as u32);
        self.valid.push(true);
    }

    /// Row `i`, `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.valid.get(i) {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Drops all rows, keeping the allocation.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.valid.clear();
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len() {
            return;
        }
        self.ends.truncate(n);
        self.valid.truncate(n);
        let end = self.ends.last().copied().unwrap_or(0) as usize;
        self.text.truncate(end);
    }
}

column!(TextColumn);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_crosses_word_boundaries() {
        let mut v = Validity::with_capacity(4);
        for i in 0..200 {
            v.push(i % 3 == 0);
        }
        assert_eq!(v.len(), 200);
        assert!((0..200).all(|i| v.get(i) == (i % 3 == 0)));
        assert_eq!(v.count_ones(), 67);
        v.clear();
        assert!(v.is_empty());
        v.push(true);
        assert!(v.get(0));
    }

    #[test]
    fn text_column_round_trips_and_truncates() {
        let mut c = TextColumn::with_capacity(2);
        c.push(Some("run_1"));
        c.push(None);
        c.push(Some(""));
        c.push(Some("thread_é"));
        assert_eq!(
            (0..4).map(|i| c.get(i)).collect::<Vec<_>>(),
            vec![Some("run_1"), None, Some(""), Some("thread_é")]
        );
        c.truncate(2);
        c.push(Some("x"));
        assert_eq!((c.len(), c.get(0), c.get(2)), (3, Some("run_1"), Some("x")));
        let mut d = TextColumn::default();
        d.push_row_of(&c, 2);
        assert_eq!(d.get(0), Some("x"));
    }

    #[test]
    fn nullable_column_round_trips() {
        let mut c = I64Column::with_capacity(2);
        c.push(Some(-5));
        c.push(None);
        c.push(Some(i64::MAX));
        assert_eq!(
            (c.get(0), c.get(1), c.get(2)),
            (Some(-5), None, Some(i64::MAX))
        );
        assert_eq!(c.values(), &[-5, 0, i64::MAX]);
        assert_eq!(c.len(), 3);
    }
}
