//! The `eps_last_1h`, `eps_last_24h` and `eps_since_start` rows: syslog-ng 3.38's
//! change-per-second aggregator (lib/stats/aggregator/stats-change-per-second.c), fed every
//! minute with a counter (`processed` of a reader, `written` of a writer). Its arithmetic is
//! kept as it is — including that only the first window sees the time since the previous
//! update — so that the numbers match syslog-ng's for the same traffic; except that a sum
//! stops at 0 where syslog-ng's wraps around to a huge rate.

use std::sync::Mutex;

/// How often syslog-ng's aggregators update (`FREQUENCY_OF_UPDATE`).
pub const UPDATE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Window {
    /// Seconds the average is over; `None` is since the start.
    duration: Option<u64>,
    average: u64,
    sum: u64,
    last_count: u64,
}

#[derive(Debug)]
struct State {
    init: u64,
    last_add: u64,
    windows: [Window; 3],
}

/// One counter's three rates.
#[derive(Debug)]
pub struct Eps(Mutex<State>);

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl State {
    fn new(at: u64) -> State {
        let w = |duration| Window {
            duration,
            average: 0,
            sum: 0,
            last_count: 0,
        };
        State {
            init: at,
            last_add: 0,
            windows: [w(Some(3600)), w(Some(86_400)), w(None)],
        }
    }
}

impl Default for Eps {
    fn default() -> Self {
        Eps(Mutex::new(State::new(now())))
    }
}

impl Eps {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One update with the counter's value `count` at `at` (seconds since the epoch).
    pub fn update(&self, count: u64, at: u64) {
        let mut s = self.lock();
        let elapsed = at.saturating_sub(s.init);
        for i in 0..s.windows.len() {
            let w = s.windows[i];
            let within = w.duration.is_none_or(|d| elapsed <= d);
            let mut diff = i128::from(count) - i128::from(w.last_count);
            if !within {
                let since = at.saturating_sub(s.last_add);
                diff -= i128::from(w.average) * i128::from(since);
            }
            let sum = u64::try_from((i128::from(w.sum) + diff).max(0)).unwrap_or(u64::MAX);
            s.last_add = at;
            let divisor = match w.duration {
                Some(d) if !within => d,
                _ => elapsed,
            }
            .max(1);
            s.windows[i] = Window {
                sum,
                last_count: count,
                average: sum / divisor,
                ..w
            };
        }
    }

    /// An update now.
    pub fn update_now(&self, count: u64) {
        self.update(count, now());
    }

    /// The last hour's, the last day's and the since-start rates.
    pub fn values(&self) -> [u64; 3] {
        let s = self.lock();
        [0, 1, 2].map(|i| s.windows[i].average)
    }

    /// Starts over (`stats --reset`).
    pub fn reset(&self) {
        *self.lock() = State::new(now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_over_the_time_since_start_then_over_the_window() {
        let e = Eps(Mutex::new(State::new(1000)));
        e.update(600, 1060);
        assert_eq!(e.values(), [10, 10, 10]);
        e.update(1200, 1120);
        assert_eq!(e.values(), [10, 10, 10]);
        // Past the hour: the hour's sum loses average × the time since the last update.
        e.update(1200, 1000 + 3660);
        assert_eq!(e.values()[0], 0, "1200 - 10 × 3540 stops at 0");
        assert_eq!(e.values()[2], 1200 / 3660);
    }
}
