//! Brute-force brakes for password checks: a token bucket per account and one per source
//! address, in front of the (deliberately slow) hash comparison.
//!
//! The credential lockout stops guessing against one account for good; these buckets stop the
//! cheap variants first — one source spraying many accounts, or a locked-out attacker making
//! the server hash passwords for nothing. They live in each instance's memory: with N
//! instances an attacker gets at most N × the configured rate, which is still bounded, and no
//! database write is spent on rejecting them.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use idm_domain::DomainError;

/// Attempts per minute; `0` switches a bucket off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Password checks per account (client + user) per minute.
    pub per_account_per_minute: u32,
    /// Password checks per source address per minute.
    pub per_source_per_minute: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            per_account_per_minute: 10,
            per_source_per_minute: 100,
        }
    }
}

/// The buckets of one instance.
pub(crate) struct Throttle {
    accounts: Option<DefaultKeyedRateLimiter<(i64, i64)>>,
    sources: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
    attempts: std::sync::atomic::AtomicU64,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    // The whole minute's allowance may be spent at once (a user mistyping a few times in a
    // row), then it refills evenly.
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)))
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Throttle {
            accounts: limiter(config.per_account_per_minute),
            sources: limiter(config.per_source_per_minute),
            clock: DefaultClock::default(),
            attempts: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Takes one attempt from the account's and the source's buckets.
    ///
    /// # Errors
    /// [`DomainError::TooManyAttempts`] with the seconds until the next attempt is allowed.
    pub(crate) fn attempt(
        &self,
        client_id: i64,
        user_id: i64,
        source: Option<IpAddr>,
    ) -> Result<(), DomainError> {
        let n = self
            .attempts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 4096 == 4095 {
            self.forget_idle();
        }
        let now = self.clock.now();
        let wait = |e: governor::NotUntil<_>| {
            let secs = e.wait_time_from(now).as_secs_f64().ceil();
            // At least one second: `Retry-After: 0` would invite an immediate retry.
            DomainError::TooManyAttempts {
                retry_after_secs: (secs as u64).max(1),
            }
        };
        if let (Some(sources), Some(ip)) = (&self.sources, source) {
            sources.check_key(&ip).map_err(wait)?;
        }
        if let Some(accounts) = &self.accounts {
            accounts.check_key(&(client_id, user_id)).map_err(wait)?;
        }
        Ok(())
    }

    /// Drops the state of buckets that are full again (memory bound under a spray of keys).
    fn forget_idle(&self) {
        if let Some(a) = &self.accounts {
            a.retain_recent();
        }
        if let Some(s) = &self.sources {
            s.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_account_gets_its_allowance_then_a_retry_after() {
        let t = Throttle::new(ThrottleConfig {
            per_account_per_minute: 3,
            per_source_per_minute: 0,
        });
        for _ in 0..3 {
            t.attempt(1, 7, None).unwrap();
        }
        match t.attempt(1, 7, None) {
            Err(DomainError::TooManyAttempts { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("{other:?}"),
        }
        // Another account (same user id in another client) has its own bucket.
        t.attempt(2, 7, None).unwrap();
    }

    #[test]
    fn one_source_spraying_many_accounts_is_stopped() {
        let t = Throttle::new(ThrottleConfig {
            per_account_per_minute: 100,
            per_source_per_minute: 5,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for user in 0..5 {
            t.attempt(1, user, Some(ip)).unwrap();
        }
        assert!(t.attempt(1, 99, Some(ip)).is_err());
        assert!(t.attempt(1, 99, Some("192.0.2.2".parse().unwrap())).is_ok());
    }

    #[test]
    fn zero_switches_a_bucket_off() {
        let t = Throttle::new(ThrottleConfig {
            per_account_per_minute: 0,
            per_source_per_minute: 0,
        });
        for _ in 0..1000 {
            t.attempt(1, 1, Some("192.0.2.1".parse().unwrap())).unwrap();
        }
        t.forget_idle();
    }
}
