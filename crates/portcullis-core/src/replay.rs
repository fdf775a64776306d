//! Per-session anti-replay window over 64-bit sequence numbers.
//!
//! A sliding bitmap in the manner of RFC 4303 §3.4.3 (IPsec ESP) and RFC 6479: the window
//! remembers the highest sequence number accepted so far and which of the `size` numbers
//! at and below it were seen. Anything newer than the highest is fresh; anything inside
//! the window is fresh once; anything below the window is too old to judge and refused.
//!
//! Checking and recording are separate steps on purpose: the gate checks before it spends
//! time on decryption, and records only after the AEAD tag verified, so a forged message
//! can never move the window.

/// Why a sequence number was refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// This exact sequence number was already accepted.
    Duplicate,
    /// The sequence number is at or below `highest - size`: older than the window remembers.
    TooOld,
}

impl From<ReplayError> for crate::error::Rejection {
    fn from(e: ReplayError) -> Self {
        use crate::error::{ErrorCode, Rejection};
        match e {
            ReplayError::Duplicate => Rejection::new(
                ErrorCode::Replay,
                "this sequence number was already accepted: a replayed message",
            ),
            ReplayError::TooOld => Rejection::new(
                ErrorCode::Stale,
                "sequence number is older than the replay window: the message is too old to accept",
            ),
        }
    }
}

/// The window itself. One per session.
#[derive(Debug)]
pub struct ReplayWindow {
    /// Highest sequence number accepted so far; `None` before the first.
    highest: Option<u64>,
    /// Bit `s % size` is set iff sequence number `s`, with `highest - size < s <= highest`,
    /// was accepted. Bits for numbers outside that range are always clear.
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// Smallest allowed window, in sequence numbers.
    pub const MIN_SIZE: u32 = 64;
    /// Largest allowed window, in sequence numbers.
    pub const MAX_SIZE: u32 = 1 << 16;

    /// A window remembering `size` sequence numbers, rounded up to a multiple of 64 and
    /// clamped to `MIN_SIZE..=MAX_SIZE` (the config loader rejects values outside it).
    pub fn new(size: u32) -> Self {
        let size = size.clamp(Self::MIN_SIZE, Self::MAX_SIZE).div_ceil(64);
        ReplayWindow {
            highest: None,
            bits: vec![0; size as usize].into_boxed_slice(),
        }
    }

    /// How many sequence numbers the window remembers.
    pub fn size(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// Whether `seq` would be accepted now. Does not change the window.
    pub fn check(&self, seq: u64) -> Result<(), ReplayError> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if seq > highest {
            return Ok(());
        }
        if highest - seq >= self.size() {
            return Err(ReplayError::TooOld);
        }
        if self.is_set(seq) {
            return Err(ReplayError::Duplicate);
        }
        Ok(())
    }

    /// Checks `seq` and, if fresh, records it as accepted.
    pub fn accept(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check(seq)?;
        match self.highest {
            Some(highest) if seq <= highest => {}
            Some(highest) => self.advance(highest, seq),
            None => {}
        }
        if self.highest.is_none_or(|h| seq > h) {
            self.highest = Some(seq);
        }
        let (word, bit) = self.slot(seq);
        self.bits[word] |= bit;
        Ok(())
    }

    /// Clears the bits of the numbers that slide out as `highest` moves up to `new`.
    fn advance(&mut self, highest: u64, new: u64) {
        let gap = new - highest;
        if gap >= self.size() {
            self.bits.fill(0);
            return;
        }
        // The numbers highest+1 ..= new take the slots of the ones that fall out.
        for s in highest + 1..=new {
            let (word, bit) = self.slot(s);
            self.bits[word] &= !bit;
        }
    }

    fn is_set(&self, seq: u64) -> bool {
        let (word, bit) = self.slot(seq);
        self.bits[word] & bit != 0
    }

    fn slot(&self, seq: u64) -> (usize, u64) {
        let index = seq % self.size();
        ((index / 64) as usize, 1u64 << (index % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window_at(highest: u64) -> ReplayWindow {
        let mut w = ReplayWindow::new(64);
        w.accept(highest).unwrap();
        w
    }

    #[test]
    fn first_number_is_fresh_whatever_it_is() {
        for seq in [0, 1, 63, u64::MAX] {
            assert_eq!(ReplayWindow::new(64).accept(seq), Ok(()));
        }
    }

    #[test]
    fn duplicate_of_highest() {
        let mut w = window_at(10);
        assert_eq!(w.accept(10), Err(ReplayError::Duplicate));
    }

    #[test]
    fn out_of_order_inside_window_accepted_once() {
        let mut w = window_at(100);
        assert_eq!(w.accept(99), Ok(()));
        assert_eq!(w.accept(50), Ok(()));
        assert_eq!(w.accept(99), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(50), Err(ReplayError::Duplicate));
    }

    #[test]
    fn left_edge_is_inside() {
        // Window of 64 at highest 100 remembers 37..=100.
        let mut w = window_at(100);
        assert_eq!(w.check(37), Ok(()));
        assert_eq!(w.accept(37), Ok(()));
        assert_eq!(w.accept(37), Err(ReplayError::Duplicate));
    }

    #[test]
    fn just_past_left_edge_is_too_old() {
        let w = window_at(100);
        assert_eq!(w.check(36), Err(ReplayError::TooOld));
        assert_eq!(w.check(0), Err(ReplayError::TooOld));
    }

    #[test]
    fn right_edge_next_number_is_fresh() {
        let mut w = window_at(100);
        assert_eq!(w.accept(101), Ok(()));
        assert_eq!(w.accept(101), Err(ReplayError::Duplicate));
        // 37 just slid out of the window.
        assert_eq!(w.check(37), Err(ReplayError::TooOld));
        assert_eq!(w.check(38), Ok(()));
    }

    #[test]
    fn far_ahead_jump_clears_everything_but_the_new_top() {
        let mut w = window_at(100);
        w.accept(90).unwrap();
        assert_eq!(w.accept(100 + 64 + 5), Ok(()));
        assert_eq!(w.check(100), Err(ReplayError::TooOld));
        assert_eq!(w.check(169 - 63), Ok(()));
        assert_eq!(w.check(169), Err(ReplayError::Duplicate));
    }

    #[test]
    fn slots_reused_after_sliding_do_not_remember_old_numbers() {
        let mut w = window_at(0);
        for s in 1..=64 {
            w.accept(s).unwrap();
        }
        // 64 took the slot of 0; 65 takes the slot of 1. Neither 65 nor 128 looks seen.
        assert_eq!(w.check(65), Ok(()));
        w.accept(128).unwrap();
        assert_eq!(w.check(100), Ok(()));
        assert_eq!(w.check(64), Err(ReplayError::TooOld));
    }

    #[test]
    fn top_of_range_does_not_overflow() {
        let mut w = window_at(u64::MAX - 1);
        assert_eq!(w.accept(u64::MAX), Ok(()));
        assert_eq!(w.accept(u64::MAX), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(u64::MAX - 1), Err(ReplayError::Duplicate));
    }

    #[test]
    fn size_is_rounded_and_clamped() {
        assert_eq!(ReplayWindow::new(1).size(), 64);
        assert_eq!(ReplayWindow::new(65).size(), 128);
        assert_eq!(ReplayWindow::new(u32::MAX).size(), 1 << 16);
    }

    #[test]
    fn check_does_not_record() {
        let mut w = window_at(5);
        assert_eq!(w.check(6), Ok(()));
        assert_eq!(w.check(6), Ok(()));
        assert_eq!(w.accept(6), Ok(()));
        assert_eq!(w.check(6), Err(ReplayError::Duplicate));
    }
}
