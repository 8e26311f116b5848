//! The parsers of flag values that are more than a number: dimensions, orders, sizes.

use steplog::agg::{Dim, Sort};

pub(super) fn parse_dim(s: &str) -> Result<Dim, String> {
    Dim::parse(s).ok_or_else(|| {
        let names: Vec<String> = Dim::NAMED.iter().map(Dim::name).collect();
        format!(
            "`{s}` is not a dimension; use {} or metadata.KEY",
            names.join(", ")
        )
    })
}

pub(super) fn parse_sort(s: &str) -> Result<Sort, String> {
    Sort::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Sort::ALL.iter().map(|s| s.as_str()).collect();
        format!("`{s}` is not an order; use {}", names.join(", "))
    })
}

/// `64K`, `4M`, `1G` or plain bytes.
pub(super) fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    // Binary multiples, however they are written: 64K, 64k, 64KB, 64KiB (as `summary`
    // prints sizes in KiB, MiB and GiB).
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let unit = unit.trim();
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1usize,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size like 65536, 64K, 64KiB or 4M")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 65536, 64K, 64KiB or 4M"))?;
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!(
            "`{s}` must be between 1 byte and {} bytes",
            usize::MAX
        )),
        Some(v) => Ok(v),
    }
}

/// The largest `--chunk-size`: every worker holds a chunk in memory.
const MAX_CHUNK_SIZE: usize = 1 << 30;

pub(super) fn parse_chunk_size(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        n if n > MAX_CHUNK_SIZE => Err(format!(
            "`{s}` is more than 1G: every worker holds a chunk in memory"
        )),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("4m"), Ok(4 << 20));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("64 KB"), Ok(65536));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("4Mx").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999G").is_err());
        assert!(parse_chunk_size("2G").is_err());
    }
}
