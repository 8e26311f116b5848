//! Line positions packed into one `u64`: the input's index and the byte offset of the
//! line's first byte. `--dedup` keys winning lines by them and export writes them out.

/// Bits of a position given to the byte offset; the input index gets the rest.
pub const OFFSET_BITS: u32 = 40;
/// Largest byte offset a position can hold (1 TiB).
pub const MAX_OFFSET: u64 = (1 << OFFSET_BITS) - 1;
/// Number of inputs positions can tell apart.
pub const MAX_FILES: u64 = 1 << (64 - OFFSET_BITS);

/// Packs a line position: input index and byte offset of the line's first byte.
#[inline]
pub fn pack(file: u32, offset: u64) -> u64 {
    (u64::from(file) << OFFSET_BITS) | (offset & MAX_OFFSET)
}

/// The input index of a packed position.
#[inline]
pub fn file(pos: u64) -> usize {
    (pos >> OFFSET_BITS) as usize
}

/// The byte offset of a packed position.
#[inline]
pub fn offset(pos: u64) -> u64 {
    pos & MAX_OFFSET
}

#[cfg(test)]
mod tests {
    #[test]
    fn packs_and_unpacks() {
        let p = super::pack(7, 123_456);
        assert_eq!((super::file(p), super::offset(p)), (7, 123_456));
        let p = super::pack(u32::MAX >> 8, super::MAX_OFFSET);
        assert_eq!(super::file(p) as u64, super::MAX_FILES - 1);
        assert_eq!(super::offset(p), super::MAX_OFFSET);
    }
}
