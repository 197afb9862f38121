//! PostgreSQL: when a short read may run on the calling (async worker) thread.
//!
//! A point read handed to the blocking pool costs two thread wake-ups, which on loopback cost
//! more than the read: under the ★ read, `idm` spent 77 µs of CPU per request with every read
//! on the blocking pool and 44 µs with them in place, and the p99 at saturation fell from
//! hundreds of milliseconds to ~3 ms (docs/performance.md). But in place, the worker waits
//! for the database's answer and every other request of that worker waits with it. So a read
//! goes in place only while the database is measured close: the fastest of the last
//! [`WINDOW`] reads (in place or on the blocking pool) took less than the configured limit.
//!
//! The fastest, not the average: on a busy box a read is sometimes descheduled for tens of
//! milliseconds, which says nothing about the database's distance, while a database across a
//! network (or one that is slow for everyone) has no fast reads at all. The first reads of a
//! process go to the blocking pool and measure it before any goes in place; a database that
//! turns slow sends the reads back within one window, and the reads measured on the blocking
//! pool bring them back once it recovers.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Reads per measurement window.
pub(crate) const WINDOW: u32 = 32;

/// The measurement and the bound on reads in place at once; shared by the clones of a store.
#[derive(Debug)]
pub(crate) struct InPlace {
    /// Reads go in place while the last window's fastest read took less; zero disables.
    limit_nanos: u64,
    /// The fastest read of the last complete window (`u64::MAX` before the first).
    floor_nanos: AtomicU64,
    /// The fastest read of the window being measured, and how many it has seen.
    window_min_nanos: AtomicU64,
    window_reads: AtomicU32,
    /// Reads in place now, and how many may be at once.
    busy: AtomicU32,
    max_busy: u32,
}

/// The slot of a read that runs in place; frees it when dropped (also on a panic).
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a AtomicU32);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl InPlace {
    /// `max_busy`: reads in place at once, process-wide (each async worker runs at most one
    /// anyway; fewer than the workers keeps some free should the database stop answering).
    pub(crate) fn new(limit: Duration, max_busy: u32) -> Self {
        InPlace {
            limit_nanos: u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX),
            floor_nanos: AtomicU64::new(u64::MAX),
            window_min_nanos: AtomicU64::new(u64::MAX),
            window_reads: AtomicU32::new(0),
            busy: AtomicU32::new(0),
            max_busy,
        }
    }

    /// The slot, if a read may run in place now.
    pub(crate) fn try_enter(&self) -> Option<Slot<'_>> {
        if self.floor_nanos.load(Relaxed) >= self.limit_nanos {
            return None;
        }
        self.busy
            .fetch_update(Relaxed, Relaxed, |n| (n < self.max_busy).then_some(n + 1))
            .ok()
            .map(|_| Slot(&self.busy))
    }

    /// Runs the read `f` and adds its time to the measurement.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        self.observe(started.elapsed());
        out
    }

    /// Adds one read's time (in place or on the blocking pool) to the measurement.
    pub(crate) fn observe(&self, took: Duration) {
        if self.limit_nanos == 0 {
            return;
        }
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.window_min_nanos.fetch_min(sample, Relaxed);
        // Racing readers may close a window a read early or late, or lose one sample to the
        // next window: harmless for a floor, and no lock on the read path.
        if self.window_reads.fetch_add(1, Relaxed) + 1 >= WINDOW {
            self.window_reads.store(0, Relaxed);
            let floor = self.window_min_nanos.swap(u64::MAX, Relaxed);
            self.floor_nanos.store(floor, Relaxed);
        }
    }

    /// The fastest read of the last complete window, for `/metrics` (`None` before the first).
    pub(crate) fn floor(&self) -> Option<Duration> {
        match self.floor_nanos.load(Relaxed) {
            u64::MAX => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_micros(250);
    const FAST: Duration = Duration::from_micros(40);
    const FAR: Duration = Duration::from_millis(2);

    fn window(gate: &InPlace, took: Duration) {
        for _ in 0..WINDOW {
            gate.observe(took);
        }
    }

    #[test]
    fn reads_go_in_place_only_after_a_window_of_them_was_measured_fast() {
        let gate = InPlace::new(LIMIT, 2);
        assert!(
            gate.try_enter().is_none(),
            "unmeasured: blocking pool first"
        );
        for _ in 1..WINDOW {
            gate.observe(FAST);
        }
        assert!(gate.try_enter().is_none(), "the window is not complete yet");
        gate.observe(FAST);
        assert!(gate.try_enter().is_some());
        assert_eq!(gate.floor(), Some(FAST));
    }

    #[test]
    fn reads_descheduled_on_a_busy_box_do_not_send_the_others_to_the_blocking_pool() {
        let gate = InPlace::new(LIMIT, 2);
        window(&gate, FAST);
        for i in 0..WINDOW {
            gate.observe(if i % 4 == 0 {
                FAST
            } else {
                Duration::from_millis(40)
            });
        }
        assert!(gate.try_enter().is_some());
    }

    #[test]
    fn a_database_that_turns_slow_sends_reads_back_within_a_window_and_they_return_after_it_recovers(
    ) {
        let gate = InPlace::new(LIMIT, 2);
        window(&gate, FAST);
        assert!(gate.try_enter().is_some());
        window(&gate, FAR);
        assert!(gate.try_enter().is_none());
        window(&gate, FAST);
        assert!(gate.try_enter().is_some());
    }

    #[test]
    fn no_more_reads_are_in_place_at_once_than_allowed_and_a_slot_frees_on_drop() {
        let gate = InPlace::new(LIMIT, 2);
        window(&gate, FAST);
        let first = gate.try_enter();
        let second = gate.try_enter();
        assert!(first.is_some() && second.is_some());
        assert!(
            gate.try_enter().is_none(),
            "a third read goes to the blocking pool"
        );
        drop(first);
        assert!(gate.try_enter().is_some());
    }

    #[test]
    fn a_zero_limit_never_goes_in_place() {
        let gate = InPlace::new(Duration::ZERO, 2);
        window(&gate, Duration::ZERO);
        assert!(gate.try_enter().is_none());
        assert_eq!(gate.floor(), None);
    }
}
