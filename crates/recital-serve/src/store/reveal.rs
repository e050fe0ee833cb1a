//! The reveal budget's count (`--reveal-budget`): bytes of protected source
//! text that `/v1/scan` has shown each key on each UTC day.
//!
//! Why in the store rather than in memory: a budget kept per process starts
//! again at every restart and is multiplied by the number of instances behind
//! a load balancer, and a caller who probes for a protected document only
//! needs to be patient or lucky to get past it. Here the count is durable
//! once a scan's answer is sent, and every instance on one PostgreSQL
//! database draws on the same row.
//!
//! Cost: the check before a scan is one primary-key read; the count after it
//! is one write transaction, and only when the scan showed source text (a
//! novel output costs no write). Writers are serialised (SQLite's
//! `IMMEDIATE`, PostgreSQL's advisory lock), so [`Store::take_reveal`]'s read
//! and write see no other taker in between: two instances cannot both grant
//! the last bytes of a budget.

use super::error::SqlContext;
use super::sql::args;
use super::{Store, StoreError};

/// A byte count as a column value (the budget is at most `i64::MAX` bytes in
/// practice; a larger one saturates).
fn to_col(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

impl Store {
    /// Bytes of source text shown to `key_id` on `day` (days since the Unix
    /// epoch, UTC).
    pub fn revealed(&self, key_id: i64, day: i64) -> Result<u64, StoreError> {
        self.read("read reveal budget", |tx| {
            let row = tx.query_opt(
                "SELECT bytes FROM reveal_spent WHERE key_id = ?1 AND day = ?2",
                args![key_id, day],
            )?;
            Ok(row.map(|r| r.get::<i64>(0)).transpose()?.map_or(0, |b| b.max(0) as u64))
        })
        .ctx("read reveal budget")
    }

    /// Takes up to `want` bytes out of what `budget` leaves `key_id` on
    /// `day` and returns how many were granted (0 once the budget is spent).
    /// The key's counts of earlier days are dropped: nothing reads them.
    pub fn take_reveal(&self, key_id: i64, day: i64, want: u64, budget: u64) -> Result<u64, StoreError> {
        self.write("spend reveal budget", |tx| {
            tx.execute("DELETE FROM reveal_spent WHERE key_id = ?1 AND day < ?2", args![key_id, day])?;
            let used = tx
                .query_opt(
                    "SELECT bytes FROM reveal_spent WHERE key_id = ?1 AND day = ?2",
                    args![key_id, day],
                )?
                .map(|r| r.get::<i64>(0))
                .transpose()?
                .map_or(0, |b| b.max(0) as u64);
            let granted = want.min(budget.saturating_sub(used));
            if granted > 0 {
                tx.execute(
                    "INSERT INTO reveal_spent (key_id, day, bytes) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key_id, day) DO UPDATE SET bytes = reveal_spent.bytes + excluded.bytes",
                    args![key_id, day, to_col(granted)],
                )?;
            }
            Ok(granted)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::tests::test_store;

    #[test]
    pub(crate) fn budget_is_per_key_and_per_day_and_never_overdrawn() {
        let s = test_store();
        assert_eq!(s.revealed(1, 100).unwrap(), 0);
        assert_eq!(s.take_reveal(1, 100, 60, 100).unwrap(), 60);
        assert_eq!(s.take_reveal(1, 100, 0, 100).unwrap(), 0, "a scan that showed nothing");
        assert_eq!((s.revealed(1, 100).unwrap(), s.revealed(2, 100).unwrap()), (60, 0));
        assert_eq!(s.take_reveal(1, 100, 50, 100).unwrap(), 40, "only what is left is granted");
        assert_eq!(s.take_reveal(1, 100, 5, 100).unwrap(), 0);
        assert_eq!(s.revealed(1, 100).unwrap(), 100);
        // A new day starts from nothing and drops the old day's row.
        assert_eq!(s.take_reveal(1, 101, 30, 100).unwrap(), 30);
        assert_eq!((s.revealed(1, 100).unwrap(), s.revealed(1, 101).unwrap()), (0, 30));
        // Budgets beyond i64 saturate instead of wrapping.
        assert_eq!(s.take_reveal(3, 100, u64::MAX, u64::MAX).unwrap(), u64::MAX);
        assert_eq!(s.revealed(3, 100).unwrap(), i64::MAX as u64);
    }

    #[test]
    pub(crate) fn concurrent_takers_share_one_budget() {
        let s = std::sync::Arc::new(test_store());
        let granted: u64 = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let s = s.clone();
                    sc.spawn(move || (0..25).map(|_| s.take_reveal(7, 5, 3, 200).unwrap()).sum::<u64>())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 200, "300 bytes asked for, 200 in the budget");
        assert_eq!(s.revealed(7, 5).unwrap(), 200);
    }
}
