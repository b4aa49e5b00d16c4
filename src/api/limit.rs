//! Rate limiting by key, one token bucket per key refilled continuously: keyless API callers
//! and failed bearer tokens by address (department tokens are not limited: they are
//! accountable, and the daily dump serves bulk needs), audited refusals by user or token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before idle ones are forgotten (a full bucket carries no information).
const MAX_BUCKETS: usize = 50_000;

/// Token buckets per key (a caller's address, a user, a token).
#[derive(Debug)]
pub struct RateLimiter {
    /// Requests a caller may make per minute (also the burst); 0 turns limiting off.
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests a minute per address (0: unlimited).
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `caller`'s bucket at `now`; `Err(seconds)` says how long until
    /// the next request would be allowed.
    pub fn check(&self, caller: &str, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_refused_until_the_bucket_refills() {
        let limiter = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.check("10.0.0.1", t0).is_ok());
        }
        assert_eq!(limiter.check("10.0.0.1", t0), Err(1));
        assert!(
            limiter.check("10.0.0.2", t0).is_ok(),
            "buckets are per caller"
        );
        assert!(
            limiter
                .check("10.0.0.1", t0 + Duration::from_secs(1))
                .is_ok()
        );
        assert!(
            limiter
                .check("10.0.0.1", t0 + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.check("x", t0).is_ok()));
    }
}
