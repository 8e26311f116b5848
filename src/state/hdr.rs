//! Reading a duration histogram from a state without trusting its headers.
//!
//! The standard encoding (HdrHistogram V2, DEFLATE-compressed) starts with lengths and a
//! value range that size what a decoder allocates. A damaged state could claim gigabytes,
//! so the envelope is opened here with limits that follow from what steplog writes (three
//! significant digits, values from 1 to at most 2^40 seconds): the compressed length must
//! be the bytes that are there, the inflated payload is read up to the most such a
//! histogram can take, and the header is checked before `hdrhistogram` sees any of it.

use base64::Engine as _;
use hdrhistogram::Histogram;
use std::io::Read;

/// The cookie of a DEFLATE-compressed V2 histogram, and of the V2 encoding inside it.
const COMPRESSED_COOKIE: u32 = 0x1c84_9314;
const COOKIE: u32 = 0x1c84_9313;
/// The uncompressed header: cookie, payload length, normalizing offset, digits (4 bytes
/// each), lowest and highest trackable value and the integer-to-double ratio (8 each).
const HEADER: usize = 40;
/// The largest value a state's histogram may track (durations are below 2^38 s: the
/// span from 1970 to 9999).
const MAX_HIGHEST: u64 = 1 << 40;
/// The most payload such a histogram encodes to: at most 31 × 1024 counters (three
/// digits, up to 2^40) of at most 9 bytes each, with room to spare.
const MAX_PAYLOAD: usize = 512 * 1024;

/// Encodes a histogram as `hdrhistogram`'s `V2DeflateSerializer` does: the cookie, the
/// compressed length, then the V2 encoding compressed by zlib at level 6. Written here, with
/// miniz_oxide called directly, because that serializer compresses through flate2, whose
/// backend (chosen for reading gzip inputs fast) would otherwise decide the bytes of every
/// state: states must stay byte-identical across builds.
pub(super) fn encode(h: &Histogram<u64>) -> Option<Vec<u8>> {
    use hdrhistogram::serialization::{Serializer as _, V2Serializer};
    let mut plain = Vec::new();
    V2Serializer::new().serialize(h, &mut plain).ok()?;
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&plain, 6);
    let mut bytes = Vec::with_capacity(8 + packed.len());
    bytes.extend_from_slice(&COMPRESSED_COOKIE.to_be_bytes());
    bytes.extend_from_slice(&u32::try_from(packed.len()).ok()?.to_be_bytes());
    bytes.extend_from_slice(&packed);
    Some(bytes)
}

/// Decodes one `hdr_v2_deflate` field.
pub(super) fn decode(base64: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|e| format!("not base64 ({e})"))?;
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    if word(&bytes, 0) != Some(COMPRESSED_COOKIE) {
        return Err("not a compressed HdrHistogram V2 encoding".into());
    }
    let compressed = word(&bytes, 4).ok_or("cut short")? as usize;
    if compressed != bytes.len() - 8 {
        return Err(format!(
            "its header says {compressed} compressed bytes, {} follow",
            bytes.len() - 8
        ));
    }
    let mut inner = Vec::new();
    flate2::read::ZlibDecoder::new(&bytes[8..])
        .take((HEADER + MAX_PAYLOAD + 1) as u64)
        .read_to_end(&mut inner)
        .map_err(|e| format!("cannot inflate ({e})"))?;
    if inner.len() > HEADER + MAX_PAYLOAD {
        return Err(format!(
            "inflates to more than the {} bytes a duration histogram can take",
            HEADER + MAX_PAYLOAD
        ));
    }
    let long = |at: usize| -> Option<u64> {
        Some(u64::from_be_bytes(inner.get(at..at + 8)?.try_into().ok()?))
    };
    if word(&inner, 0) != Some(COOKIE) {
        return Err("the inflated histogram is not V2".into());
    }
    let payload = word(&inner, 4).ok_or("cut short")? as usize;
    if payload != inner.len().saturating_sub(HEADER) {
        return Err(format!(
            "its header says {payload} payload bytes, {} follow",
            inner.len().saturating_sub(HEADER)
        ));
    }
    let digits = word(&inner, 12).ok_or("cut short")?;
    let (low, high) = (long(16).ok_or("cut short")?, long(24).ok_or("cut short")?);
    if digits != u32::from(crate::agg::SIGNIFICANT_DIGITS)
        || low != 1
        || !(2..=MAX_HIGHEST).contains(&high)
    {
        return Err(format!(
            "a histogram of {digits} digits from {low} to {high}; steplog writes 3 digits from \
             1 to at most 2^40"
        ));
    }
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut inner.as_slice())
        .map_err(|_| "its counts cannot be decoded (a damaged state?)".to_string())
}
