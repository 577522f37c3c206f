//! The time keyward judges expiry and grace periods by. Production reads the
//! system clock; tests (and anyone simulating) move a manual one, so a seven
//! day grace period is tested without waiting seven days.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, TimeDelta, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> NaiveDateTime;
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc()
    }
}

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that starts at the system time and moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<NaiveDateTime>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock(Mutex::new(Utc::now().naive_utc()))
    }
}

impl ManualClock {
    /// A clock standing at `at` until moved.
    pub fn at(at: NaiveDateTime) -> Self {
        ManualClock(Mutex::new(at))
    }

    pub fn advance(&self, by: TimeDelta) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::default();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::hours(24));
        assert_eq!(clock.now() - start, TimeDelta::hours(24));
    }
}
