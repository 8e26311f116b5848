//! Hints to the processor about the large tables (runs, threads, cost chains): where the
//! next lookups go.
//!
//! Millions of runs make tables of tens or hundreds of megabytes, read at random places.
//! A loop over a batch knows the rows it will look up a few places ahead ([`AHEAD`]): it
//! asks for their cache lines first, so the processor waits for several of them at once
//! instead of one after another. (Backing the tables with huge pages, to spare the address
//! translations, was measured too: on a machine whose memory is full of cached input the
//! system compacts memory on each fault for them, and the merge took twice as long.)

/// How many rows ahead the batch loops ask for their slots: enough loads in flight to
/// cover a trip to memory, few enough to stay in the cache.
pub(crate) const AHEAD: usize = 8;

/// Asks the processor to bring the cache line at `p` in; never faults.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and never faults,
    // whatever the address (and SSE, which it needs, is part of every x86-64 processor).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::prefetch;

    /// Prefetches of any address (inside a table, far past its end, null) are harmless.
    #[test]
    fn prefetching_any_address_is_harmless() {
        let v: Vec<u64> = (0..1000).collect();
        prefetch(v.as_ptr().wrapping_add(10));
        prefetch(v.as_ptr().wrapping_add(1 << 40));
        prefetch(std::ptr::null::<u8>());
        assert_eq!(v[10], 10);
    }
}
