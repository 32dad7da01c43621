//! `throttle()`: at most N messages per second to a destination — a token bucket holding at
//! most one second's worth, refilled continuously. Messages over the rate wait in the queue
//! (the writer pauses); nothing is dropped by the throttle itself.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket of `rate` messages per second; `rate` 0 is unlimited.
pub struct Throttle {
    rate: u32,
    tokens: f64,
    last: Instant,
}

impl Throttle {
    pub fn new(rate: u32, now: Instant) -> Throttle {
        Throttle {
            rate,
            tokens: f64::from(rate),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let cap = f64::from(self.rate);
        self.tokens = (self.tokens + dt * cap).min(cap);
    }

    /// How many messages may go now (at most `want`).
    pub fn allowance(&mut self, want: usize, now: Instant) -> usize {
        if self.rate == 0 {
            return want;
        }
        self.refill(now);
        (self.tokens.floor() as usize).min(want)
    }

    /// `n` messages went.
    pub fn spend(&mut self, n: usize) {
        if self.rate > 0 {
            self.tokens = (self.tokens - n as f64).max(0.0);
        }
    }

    /// How long until one message may go.
    pub fn wait_for_one(&self) -> Duration {
        if self.rate == 0 || self.tokens >= 1.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - self.tokens) / f64::from(self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_worth_then_the_rate() {
        let t0 = Instant::now();
        let mut t = Throttle::new(10, t0);
        assert_eq!(t.allowance(100, t0), 10);
        t.spend(10);
        assert_eq!(t.allowance(100, t0), 0);
        assert_eq!(t.wait_for_one(), Duration::from_millis(100));
        assert_eq!(t.allowance(100, t0 + Duration::from_millis(500)), 5);
        t.spend(5);
        // Never more than a second's worth, however long it was idle.
        assert_eq!(t.allowance(100, t0 + Duration::from_secs(60)), 10);
        let mut u = Throttle::new(0, t0);
        assert_eq!(u.allowance(100, t0), 100);
    }
}
