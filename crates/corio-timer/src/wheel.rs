//! The hierarchical timer wheel: a pure data structure over millisecond ticks.
//!
//! # Design
//!
//! Time is counted in *ticks* of one millisecond since a process-wide origin
//! (see `shared.rs`, which turns `Instant`s into ticks and back). The wheel
//! knows nothing about clocks, threads or locks: it stores entries with a tick
//! and a waker, and [`Wheel::advance`] moves its notion of "now"
//! ([`Wheel::elapsed`]) forward, firing every entry whose tick has been
//! reached.
//!
//! The layout is tokio's: [`LEVELS`] levels of [`SLOTS`] slots each. A slot of
//! level `l` spans `64^l` ticks and the whole level `64^(l+1)`, so level 0 has
//! one slot per millisecond and the six levels together span `64^6` ms (about
//! 2.2 years). An entry lives at the level given by the highest bit in which
//! its tick differs from `elapsed` ([`level_for`]), in the slot given by the
//! tick's six bits at that level ([`slot_for`]). Entries whose tick is not in
//! `elapsed`'s current top-level block go to the *overflow list* and move into
//! the wheel when `elapsed` enters their block.
//!
//! Every entry lives in one arena, a `Vec` indexed by `u32` keys; the entries
//! of a slot (or of the overflow list) form an intrusive doubly linked list
//! through `prev`/`next` keys. The first entry of a list has, instead of a
//! `prev` key, a tag naming its list ([`HEAD`] plus the level and slot, or
//! [`HEAD_OVERFLOW`]), a fired entry has [`FIRED`], and a free one
//! [`VACANT`], its `next` then linking the free list: so an entry is a tick,
//! an optional waker and two `u32`s, 32 bytes, one per timer. (The arena is
//! the `slab` crate's idea with the free list threaded through the same
//! `next` field, which saves the enum match and the moves of a `Slab` on
//! every insert and remove.)
//! Inserting pushes on the front of a list; cancelling unlinks through
//! `prev`/`next` and pushes the entry on the free list: both O(1), no search. Each level
//! keeps a 64-bit occupancy mask, so finding the next non-empty slot is a
//! rotate and a `trailing_zeros`.
//!
//! # Advancing
//!
//! [`Wheel::advance`] repeatedly takes the earliest non-empty slot whose start
//! is at or before `now`, sets `elapsed` to that start, and empties it: an
//! entry whose tick is `<= elapsed` fires, every other one is re-inserted
//! relative to the new `elapsed`, which puts it on a lower level (a
//! *cascade*; an entry cascades at most once per level). Slots are taken in
//! time order and a level-0 slot holds a single tick, so entries fire in tick
//! order. Once nothing is left at or before `now`, `elapsed` becomes `now`; if
//! that crosses into a new top-level block, the overflow list is scanned once.
//!
//! [`Wheel::next_expiration`] tells the driver when to call `advance` next:
//! the earliest entry's tick when the earliest non-empty slot is on level 0
//! or holds few entries (it scans at most [`EXACT_SCAN`] of them), else that
//! slot's start, when it must be cascaded. The driver thus sleeps straight
//! to the deadline in the common case, instead of waking once per level to
//! cascade, as a wheel that only reports slot starts would.
//!
//! # Invariants
//!
//! * An entry in the wheel has `tick > elapsed`, sits at
//!   `level_for(elapsed, tick)`, in `slot_for(tick, level)`; consequently every
//!   occupied slot starts after `elapsed` and lies in `elapsed`'s block of its
//!   level.
//! * An entry in the overflow list has a tick outside `elapsed`'s top-level
//!   block (hence later), and `overflow_min` is at most the smallest such
//!   tick (a lower bound: cancelling the smallest does not rescan).
//! * `elapsed` never goes backwards.
//! * A fired entry is unlinked and stays in the arena, with its waker taken,
//!   until its owner removes it: the wheel never frees a key by itself, so the
//!   owner's key can never come to name someone else's entry.
//! * `pending` counts the linked (not yet fired) entries.

use std::task::Waker;

/// Bits of a tick that index the slots of one level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Levels of the wheel.
pub(crate) const LEVELS: usize = 6;
/// Ticks spanned by the whole wheel (`64^6` ms, about 2.2 years).
pub(crate) const RANGE: u64 = 1 << (SLOT_BITS * LEVELS as u32);

/// How many entries of a coarse slot [`Wheel::next_expiration`] looks at to
/// report their exact earliest tick rather than the slot's start (which would
/// cost the driver a wake-up just to cascade).
const EXACT_SCAN: usize = 32;

/// "No entry" in a link or a list head.
const NIL: u32 = u32::MAX;

/// `prev` of the first entry of a slot's list: `HEAD | level << 8 | slot`.
/// Keys stay below it.
const HEAD: u32 = 1 << 31;
/// `prev` of the first entry of the overflow list.
const HEAD_OVERFLOW: u32 = u32::MAX - 1;
/// `prev` of an entry that has fired (linked in no list).
const FIRED: u32 = u32::MAX;
/// `prev` of a free arena entry (its `next` links the free list).
const VACANT: u32 = u32::MAX - 2;

/// The tag of the list of `level`'s `slot`.
fn slot_tag(level: usize, slot: usize) -> u32 {
    HEAD | (level as u32) << 8 | slot as u32
}

/// The `(level, slot)` of a tag made by [`slot_tag`].
fn tag_slot(tag: u32) -> (usize, usize) {
    ((tag >> 8) as u8 as usize, tag as u8 as usize)
}

/// The level an entry with `tick` belongs to when the wheel is at `elapsed`,
/// or `None` when it belongs to the overflow list.
///
/// `tick` must be greater than `elapsed`.
pub(crate) fn level_for(elapsed: u64, tick: u64) -> Option<usize> {
    // The `| (SLOTS - 1)` puts ticks within the current 64-tick block on level 0.
    let masked = (elapsed ^ tick) | (SLOTS as u64 - 1);
    if masked >= RANGE {
        return None;
    }
    let significant = 63 - masked.leading_zeros();
    Some((significant / SLOT_BITS) as usize)
}

/// The slot of `level` that holds ticks equal to `tick` at that level.
pub(crate) fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (level as u32 * SLOT_BITS)) as usize) & (SLOTS - 1)
}

/// One timer.
#[derive(Debug)]
struct Entry {
    tick: u64,
    /// The task to wake; `None` once taken (by firing, or when the entry
    /// was freed), until [`Wheel::update_waker`] stores a new one.
    waker: Option<Waker>,
    /// The previous entry's key, the list's tag if this is the first entry
    /// ([`HEAD`], [`HEAD_OVERFLOW`]), [`FIRED`] or [`VACANT`].
    prev: u32,
    /// The next entry's key in its list, or in the free list.
    next: u32,
}

/// One level: a list head per slot and a mask of the non-empty slots.
#[derive(Debug)]
struct Level {
    heads: [u32; SLOTS],
    occupied: u64,
}

impl Level {
    const EMPTY: Level = Level {
        heads: [NIL; SLOTS],
        occupied: 0,
    };
}

/// What [`Wheel::update_waker`] found.
#[derive(Debug)]
pub(crate) enum Poll {
    /// The entry has fired.
    Fired,
    /// Still pending; the waker it replaced, to be dropped outside the lock.
    Pending(Option<Waker>),
}

/// The timer wheel. See the module docs.
#[derive(Debug)]
pub(crate) struct Wheel {
    entries: Vec<Entry>,
    /// The first free entry of `entries`, or [`NIL`].
    free: u32,
    /// Entries in use (linked or fired).
    used: usize,
    levels: [Level; LEVELS],
    overflow: u32,
    overflow_min: u64,
    elapsed: u64,
    pending: usize,
}

impl Wheel {
    /// An empty wheel at tick 0.
    pub(crate) const fn new() -> Wheel {
        Wheel {
            entries: Vec::new(),
            free: NIL,
            used: 0,
            levels: [Level::EMPTY; LEVELS],
            overflow: NIL,
            overflow_min: u64::MAX,
            elapsed: 0,
            pending: 0,
        }
    }

    /// The tick up to which the wheel has fired.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Entries not yet fired.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Entries in use, fired or not.
    pub(crate) fn registered(&self) -> usize {
        self.used
    }

    /// Adds an entry that fires at `tick`, which must be after `elapsed`.
    pub(crate) fn insert(&mut self, tick: u64, waker: Waker) -> u32 {
        debug_assert!(tick > self.elapsed);
        let entry = Entry {
            tick,
            waker: Some(waker),
            prev: FIRED,
            next: NIL,
        };
        let key = match self.free {
            NIL => {
                let key = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&k| k < HEAD)
                    .expect("corio-timer: more than 2 billion timers registered at once");
                self.entries.push(entry);
                key
            }
            key => {
                let slot = &mut self.entries[key as usize];
                debug_assert_eq!(slot.prev, VACANT);
                self.free = slot.next;
                *slot = entry;
                key
            }
        };
        self.used += 1;
        self.link(key);
        self.pending += 1;
        key
    }

    /// Removes the entry `key` (fired or not) and hands back its waker, to be
    /// dropped outside the lock.
    pub(crate) fn remove(&mut self, key: u32) -> Option<Waker> {
        let prev = self.entries[key as usize].prev;
        debug_assert_ne!(prev, VACANT, "removing a free timer entry");
        if prev != FIRED {
            self.unlink(key);
            self.pending -= 1;
        }
        let free = self.free;
        let entry = &mut self.entries[key as usize];
        entry.prev = VACANT;
        entry.next = free;
        self.free = key;
        self.used -= 1;
        // A fired entry's waker went when it fired.
        entry.waker.take()
    }

    /// Whether `key` has fired.
    #[cfg(test)]
    fn is_fired(&self, key: u32) -> bool {
        self.entries[key as usize].prev == FIRED
    }

    /// Stores `waker` in a pending entry unless it already holds one that
    /// wakes the same task.
    pub(crate) fn update_waker(&mut self, key: u32, waker: &Waker) -> Poll {
        let entry = &mut self.entries[key as usize];
        if entry.prev == FIRED {
            return Poll::Fired;
        }
        if let Some(old) = &entry.waker {
            if old.will_wake(waker) {
                return Poll::Pending(None);
            }
        }
        Poll::Pending(entry.waker.replace(waker.clone()))
    }

    /// Moves the entry `key` (fired or not) to `tick`. If `tick` is not after
    /// `elapsed` the entry fires at once and its waker is handed back, to be
    /// woken outside the lock.
    pub(crate) fn reset(&mut self, key: u32, tick: u64) -> Option<Waker> {
        if self.entries[key as usize].prev == FIRED {
            self.pending += 1;
        } else {
            self.unlink(key);
        }
        let entry = &mut self.entries[key as usize];
        entry.tick = tick;
        if tick <= self.elapsed {
            entry.prev = FIRED;
            self.pending -= 1;
            return entry.waker.take();
        }
        self.link(key);
        None
    }

    /// The earliest tick at which [`advance`](Wheel::advance) has work.
    ///
    /// Never later than the earliest entry's tick, and usually equal to it:
    /// when the earliest non-empty slot is on level 0, or holds at most
    /// [`EXACT_SCAN`] entries (which are then scanned). Otherwise it is the
    /// start of that slot, when the slot must be cascaded. When only the
    /// overflow list has entries, it is the list's lower bound.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        let Some((level, slot, start)) = (0..LEVELS).find_map(|l| self.next_in_level(l)) else {
            return (self.overflow != NIL).then_some(self.overflow_min);
        };
        if level == 0 {
            return Some(start);
        }
        let mut key = self.levels[level].heads[slot];
        let mut min = u64::MAX;
        for _ in 0..EXACT_SCAN {
            if key == NIL {
                return Some(min);
            }
            let entry = &self.entries[key as usize];
            min = min.min(entry.tick);
            key = entry.next;
        }
        Some(if key == NIL { min } else { start })
    }

    /// The earliest non-empty slot of `level`: `(level, slot, start tick)`.
    fn next_in_level(&self, level: usize) -> Option<(usize, usize, u64)> {
        let occupied = self.levels[level].occupied;
        if occupied == 0 {
            return None;
        }
        let shift = level as u32 * SLOT_BITS;
        let level_range = 1u64 << (shift + SLOT_BITS);
        let now_slot = slot_for(self.elapsed, level);
        let zeros = occupied.rotate_right(now_slot as u32).trailing_zeros() as usize;
        let slot = (zeros + now_slot) % SLOTS;
        let start = (self.elapsed & !(level_range - 1)) + ((slot as u64) << shift);
        debug_assert!(start > self.elapsed, "occupied slot before elapsed");
        Some((level, slot, start))
    }

    /// Fires every entry whose tick is `<= now`, pushing the wakers of fired
    /// entries into `fired`. Stops early, between two slots, once `fired`
    /// holds at least `limit` wakers. Returns how many entries fired and
    /// whether it got all the way to `now` (`false`: call again).
    pub(crate) fn advance(
        &mut self,
        now: u64,
        fired: &mut Vec<Waker>,
        limit: usize,
    ) -> (usize, bool) {
        let mut count = 0;
        while let Some((level, slot, start)) = (0..LEVELS).find_map(|l| self.next_in_level(l)) {
            if start > now {
                break;
            }
            if fired.len() >= limit {
                return (count, false);
            }
            count += self.process_slot(level, slot, start, fired);
        }
        if now > self.elapsed {
            let crossed = (now ^ self.elapsed) >= RANGE;
            self.elapsed = now;
            if crossed {
                count += self.enter_block(fired);
            }
        }
        (count, true)
    }

    /// Empties one slot: sets `elapsed` to its start, fires what is due and
    /// cascades the rest to lower levels.
    fn process_slot(
        &mut self,
        level: usize,
        slot: usize,
        start: u64,
        fired: &mut Vec<Waker>,
    ) -> usize {
        self.elapsed = start;
        let lvl = &mut self.levels[level];
        let mut key = std::mem::replace(&mut lvl.heads[slot], NIL);
        lvl.occupied &= !(1 << slot);
        let mut count = 0;
        while key != NIL {
            let entry = &mut self.entries[key as usize];
            let next = entry.next;
            if entry.tick <= start {
                entry.prev = FIRED;
                self.pending -= 1;
                fired.extend(entry.waker.take());
                count += 1;
            } else {
                self.link(key);
            }
            key = next;
        }
        count
    }

    /// `elapsed` has just entered a new top-level block (so the wheel itself
    /// is empty): fires the overflow entries now due, in tick order, and moves
    /// those of the new block into the wheel.
    fn enter_block(&mut self, fired: &mut Vec<Waker>) -> usize {
        debug_assert!(self.levels.iter().all(|l| l.occupied == 0));
        let mut due = Vec::new();
        let mut key = std::mem::replace(&mut self.overflow, NIL);
        self.overflow_min = u64::MAX;
        while key != NIL {
            let entry = &mut self.entries[key as usize];
            let next = entry.next;
            if entry.tick <= self.elapsed {
                entry.prev = FIRED;
                self.pending -= 1;
                due.push((entry.tick, key));
            } else {
                self.link(key);
            }
            key = next;
        }
        due.sort_unstable();
        for &(_, key) in &due {
            fired.extend(self.entries[key as usize].waker.take());
        }
        due.len()
    }

    /// Links `key` into the list its tick belongs to (relative to `elapsed`).
    fn link(&mut self, key: u32) {
        let tick = self.entries[key as usize].tick;
        let (tag, head) = match level_for(self.elapsed, tick) {
            Some(level) => {
                let slot = slot_for(tick, level);
                let lvl = &mut self.levels[level];
                lvl.occupied |= 1 << slot;
                (
                    slot_tag(level, slot),
                    std::mem::replace(&mut lvl.heads[slot], key),
                )
            }
            None => {
                self.overflow_min = self.overflow_min.min(tick);
                (HEAD_OVERFLOW, std::mem::replace(&mut self.overflow, key))
            }
        };
        if head != NIL {
            self.entries[head as usize].prev = key;
        }
        let entry = &mut self.entries[key as usize];
        entry.prev = tag;
        entry.next = head;
    }

    /// Unlinks `key` from its list (it must be linked).
    fn unlink(&mut self, key: u32) {
        let Entry { prev, next, .. } = self.entries[key as usize];
        debug_assert_ne!(prev, FIRED, "unlinking a fired timer");
        if next != NIL {
            // The next entry takes over `prev`: a key, or the list's tag if
            // this entry was the first.
            self.entries[next as usize].prev = prev;
        }
        if prev < HEAD {
            self.entries[prev as usize].next = next;
        } else if prev == HEAD_OVERFLOW {
            self.overflow = next;
            if next == NIL {
                self.overflow_min = u64::MAX;
            }
        } else {
            let (level, slot) = tag_slot(prev);
            let lvl = &mut self.levels[level];
            lvl.heads[slot] = next;
            if next == NIL {
                lvl.occupied &= !(1 << slot);
            }
        }
    }

    /// Where `key` is linked, for the tests.
    #[cfg(test)]
    fn location(&self, key: u32) -> Option<Option<(usize, usize)>> {
        let mut prev = self.entries[key as usize].prev;
        while prev < HEAD {
            prev = self.entries[prev as usize].prev;
        }
        match prev {
            FIRED => None,
            HEAD_OVERFLOW => Some(None),
            tag => Some(Some(tag_slot(tag))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that records which timer woke it into a shared log.
    struct Recorder {
        id: u64,
        log: Arc<std::sync::Mutex<Vec<u64>>>,
        wakes: AtomicUsize,
    }

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
            self.log.lock().unwrap().push(self.id);
        }
    }

    fn waker(id: u64, log: &Arc<std::sync::Mutex<Vec<u64>>>) -> Waker {
        Waker::from(Arc::new(Recorder {
            id,
            log: log.clone(),
            wakes: AtomicUsize::new(0),
        }))
    }

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    /// Advances to `now` in one go and wakes what fired; returns the count.
    fn run(wheel: &mut Wheel, now: u64) -> usize {
        let mut fired = Vec::new();
        let (n, done) = wheel.advance(now, &mut fired, usize::MAX);
        assert!(done);
        fired.into_iter().for_each(Waker::wake);
        n
    }

    #[test]
    fn entries_stay_small() {
        // Every registered timer pays for one arena entry.
        assert!(
            std::mem::size_of::<Entry>() <= 40,
            "{}",
            std::mem::size_of::<Entry>()
        );
        assert!(std::mem::size_of::<crate::Sleep>() <= 32);
    }

    #[test]
    fn level_arithmetic() {
        // Within the current 64-tick block: level 0.
        assert_eq!(level_for(0, 1), Some(0));
        assert_eq!(level_for(0, 63), Some(0));
        assert_eq!(level_for(64, 127), Some(0));
        // One level per six bits.
        assert_eq!(level_for(0, 64), Some(1));
        assert_eq!(level_for(0, 4095), Some(1));
        assert_eq!(level_for(0, 4096), Some(2));
        assert_eq!(level_for(0, (1 << 18) - 1), Some(2));
        assert_eq!(level_for(0, 1 << 18), Some(3));
        assert_eq!(level_for(0, 1 << 24), Some(4));
        assert_eq!(level_for(0, 1 << 30), Some(5));
        assert_eq!(level_for(0, RANGE - 1), Some(5));
        // Past the top level: overflow.
        assert_eq!(level_for(0, RANGE), None);
        assert_eq!(level_for(0, u64::MAX), None);
        // The level is about differing bits, not distance: one tick ahead
        // across a block boundary is a higher level.
        assert_eq!(level_for(63, 64), Some(1));
        assert_eq!(level_for(4095, 4096), Some(2));
        assert_eq!(level_for(RANGE - 1, RANGE), None);
        assert_eq!(level_for(RANGE, RANGE + 1), Some(0));
    }

    #[test]
    fn slot_arithmetic() {
        assert_eq!(slot_for(0, 0), 0);
        assert_eq!(slot_for(5, 0), 5);
        assert_eq!(slot_for(64 + 5, 0), 5);
        assert_eq!(slot_for(64 + 5, 1), 1);
        assert_eq!(slot_for(3 * 4096 + 2 * 64 + 1, 1), 2);
        assert_eq!(slot_for(3 * 4096 + 2 * 64 + 1, 2), 3);
        assert_eq!(slot_for(RANGE - 1, 5), 63);
        assert_eq!(slot_for(u64::MAX, 5), 63);
    }

    #[test]
    fn insert_places_entries() {
        let mut w = Wheel::new();
        let a = w.insert(5, noop());
        let b = w.insert(100, noop());
        let c = w.insert(5000, noop());
        let d = w.insert(RANGE + 7, noop());
        assert_eq!(w.location(a), Some(Some((0, 5))));
        assert_eq!(w.location(b), Some(Some((1, 1))));
        assert_eq!(w.location(c), Some(Some((2, 1))));
        assert_eq!(w.location(d), Some(None));
        assert_eq!(w.pending(), 4);
        assert_eq!(w.next_expiration(), Some(5));
    }

    #[test]
    fn next_expiration_is_exact_for_small_slots() {
        let mut w = Wheel::new();
        assert_eq!(w.next_expiration(), None);
        w.insert(100, noop()); // level 1, slot 1: starts at 64
        assert_eq!(w.next_expiration(), Some(100));
        w.insert(70, noop()); // same slot
        assert_eq!(w.next_expiration(), Some(70));
        w.insert(10, noop());
        assert_eq!(w.next_expiration(), Some(10));
    }

    #[test]
    fn next_expiration_is_the_slot_start_for_crowded_slots() {
        let mut w = Wheel::new();
        for _ in 0..=EXACT_SCAN {
            w.insert(100, noop());
        }
        assert_eq!(w.next_expiration(), Some(64));
        // Advancing to the slot start cascades; then it is exact.
        assert_eq!(run(&mut w, 64), 0);
        assert_eq!(w.next_expiration(), Some(100));
        // Advancing late, straight past the slot start, fires on time.
        let mut w = Wheel::new();
        for _ in 0..=EXACT_SCAN {
            w.insert(100, noop());
        }
        assert_eq!(run(&mut w, 99), 0);
        assert_eq!(run(&mut w, 100), EXACT_SCAN + 1);
    }

    #[test]
    fn fires_in_order_and_never_early() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        let ticks = [3u64, 1, 64, 65, 63, 4095, 4096, 4097, 300_000, 2];
        for &t in &ticks {
            w.insert(t, waker(t, &log));
        }
        // Step one tick at a time: each entry fires exactly at its tick.
        let mut now = 0;
        while w.pending() > 0 {
            now += 1;
            let before = log.lock().unwrap().len();
            run(&mut w, now);
            for &id in &log.lock().unwrap()[before..] {
                assert_eq!(id, now, "timer {id} fired at {now}");
            }
        }
        let mut sorted = ticks.to_vec();
        sorted.sort_unstable();
        assert_eq!(*log.lock().unwrap(), sorted);
    }

    #[test]
    fn a_big_jump_fires_everything_in_order() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        let ticks = [9000u64, 70, 5, 262_200, 64, 4100, 63];
        for &t in &ticks {
            w.insert(t, waker(t, &log));
        }
        assert_eq!(run(&mut w, 8999), 5);
        assert_eq!(*log.lock().unwrap(), [5, 63, 64, 70, 4100]);
        assert_eq!(w.elapsed(), 8999);
        assert_eq!(run(&mut w, 1_000_000), 2);
        assert_eq!(*log.lock().unwrap(), [5, 63, 64, 70, 4100, 9000, 262_200]);
        assert_eq!(w.pending(), 0);
        assert_eq!(w.registered(), ticks.len());
    }

    #[test]
    fn cascades_from_higher_levels() {
        let mut w = Wheel::new();
        let k = w.insert(4096 + 64 * 3 + 7, noop()); // level 2, slot 1
        assert_eq!(w.location(k), Some(Some((2, 1))));
        assert_eq!(w.next_expiration(), Some(4096 + 192 + 7));
        // Reaching the slot's start cascades it to level 1 ...
        assert_eq!(run(&mut w, 4096), 0);
        assert_eq!(w.location(k), Some(Some((1, 3))));
        // ... then to level 0 ...
        assert_eq!(run(&mut w, 4096 + 192), 0);
        assert_eq!(w.location(k), Some(Some((0, 7))));
        assert_eq!(w.next_expiration(), Some(4096 + 192 + 7));
        // ... and fires on its tick, not before.
        assert_eq!(run(&mut w, 4096 + 192 + 6), 0);
        assert!(!w.is_fired(k));
        assert_eq!(run(&mut w, 4096 + 192 + 7), 1);
        assert!(w.is_fired(k));
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn overflow_moves_in_when_its_block_comes() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        let far = 3 * RANGE + 12_345;
        let k = w.insert(far, waker(1, &log));
        let near = w.insert(RANGE - 1, waker(0, &log));
        assert_eq!(w.location(k), Some(None));
        assert_eq!(w.next_expiration(), Some(RANGE - 1));
        assert_eq!(run(&mut w, RANGE - 1), 1);
        assert!(w.is_fired(near));
        assert_eq!(w.next_expiration(), Some(far));
        // Entering the block right before: still in overflow.
        assert_eq!(run(&mut w, 2 * RANGE + 5), 0);
        assert_eq!(w.location(k), Some(None));
        // Entering its block: moves into the wheel, relative to the new elapsed.
        assert_eq!(run(&mut w, 3 * RANGE), 0);
        assert_eq!(w.location(k), Some(Some((2, 3))));
        assert_eq!(run(&mut w, far - 1), 0);
        assert_eq!(run(&mut w, far), 1);
        assert_eq!(*log.lock().unwrap(), [0, 1]);
    }

    #[test]
    fn overflow_entries_due_on_arrival_fire_in_order() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        for t in [RANGE + 9, RANGE + 3, 2 * RANGE + 1, RANGE + 5] {
            w.insert(t, waker(t, &log));
        }
        assert_eq!(run(&mut w, 3 * RANGE), 4);
        assert_eq!(
            *log.lock().unwrap(),
            [RANGE + 3, RANGE + 5, RANGE + 9, 2 * RANGE + 1]
        );
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn far_ticks_do_not_overflow() {
        let mut w = Wheel::new();
        let k = w.insert(u64::MAX - 1, noop());
        assert_eq!(w.next_expiration(), Some(u64::MAX - 1));
        assert_eq!(run(&mut w, u64::MAX - 2), 0);
        assert_eq!(w.location(k), Some(Some((0, slot_for(u64::MAX - 1, 0)))));
        assert_eq!(run(&mut w, u64::MAX - 1), 1);
    }

    #[test]
    fn remove_is_exact_everywhere() {
        let mut w = Wheel::new();
        // Three entries sharing a slot: remove the middle, the head, the tail.
        let keys: Vec<u32> = (0..3).map(|_| w.insert(10, noop())).collect();
        let far = w.insert(5 * RANGE, noop());
        assert_eq!(w.pending(), 4);
        w.remove(keys[1]);
        w.remove(keys[2]); // the head (pushed last)
        assert_eq!(w.next_expiration(), Some(10));
        w.remove(keys[0]);
        assert_eq!(w.next_expiration(), Some(5 * RANGE));
        w.remove(far);
        assert_eq!(w.next_expiration(), None);
        assert_eq!((w.pending(), w.registered()), (0, 0));
        // A fired entry is removed too.
        let k = w.insert(1, noop());
        run(&mut w, 1);
        assert_eq!((w.pending(), w.registered()), (0, 1));
        w.remove(k);
        assert_eq!(w.registered(), 0);
    }

    #[test]
    fn freed_entries_are_reused_last_freed_first() {
        let mut w = Wheel::new();
        let a = w.insert(5, noop());
        let b = w.insert(6, noop());
        let c = w.insert(7, noop());
        assert!(w.remove(a).is_some());
        assert!(w.remove(c).is_some());
        assert_eq!(w.registered(), 1);
        // The free list hands back c, then a, then grows the arena.
        assert_eq!(w.insert(8, noop()), c);
        assert_eq!(w.insert(9, noop()), a);
        assert_eq!(w.insert(10, noop()), 3);
        assert_eq!((w.pending(), w.registered()), (4, 4));
        // A fired entry keeps its key until removed, and gives no waker back.
        assert_eq!(run(&mut w, 6), 1);
        assert_eq!((w.pending(), w.registered()), (3, 4));
        assert!(w.remove(b).is_none());
        assert_eq!(w.insert(11, noop()), b);
        assert_eq!(run(&mut w, 11), 4);
        assert_eq!(w.pending(), 0);
    }

    /// One timer costs one 32-byte arena entry (the optional waker fits in
    /// the waker's niche).
    #[test]
    fn an_entry_fills_32_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn reset_moves_and_refires() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        let k = w.insert(10, waker(7, &log));
        assert!(w.reset(k, 5000).is_none());
        assert_eq!(w.location(k), Some(Some((2, 1))));
        assert_eq!(run(&mut w, 100), 0);
        // Into the past: fires at once and hands the waker back.
        w.reset(k, 50).expect("waker").wake();
        assert!(w.is_fired(k));
        assert_eq!(w.pending(), 0);
        // A fired entry can be rearmed; it wakes nobody until updated.
        assert!(w.reset(k, 200).is_none());
        assert_eq!(w.pending(), 1);
        match w.update_waker(k, &waker(8, &log)) {
            Poll::Pending(old) => old.into_iter().for_each(Waker::wake),
            Poll::Fired => panic!("not due yet"),
        }
        assert_eq!(*log.lock().unwrap(), [7], "the rearmed entry had no waker");
        assert_eq!(run(&mut w, 200), 1);
        assert_eq!(*log.lock().unwrap(), [7, 8]);
    }

    #[test]
    fn update_waker_keeps_an_equivalent_waker() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = Wheel::new();
        let first = waker(1, &log);
        let k = w.insert(10, first.clone());
        assert!(matches!(w.update_waker(k, &first), Poll::Pending(None)));
        let other = waker(2, &log);
        assert!(matches!(w.update_waker(k, &other), Poll::Pending(Some(_))));
        run(&mut w, 10);
        assert!(matches!(w.update_waker(k, &other), Poll::Fired));
        assert_eq!(*log.lock().unwrap(), [2]);
    }

    #[test]
    fn advance_stops_between_slots_at_the_limit() {
        let mut w = Wheel::new();
        for t in 1..=10 {
            w.insert(t, noop());
            w.insert(t, noop());
        }
        let mut fired = Vec::new();
        let (n, done) = w.advance(10, &mut fired, 3);
        assert!(!done);
        assert_eq!((n, fired.len()), (4, 4)); // two slots of two
        fired.clear();
        let (n, done) = w.advance(10, &mut fired, usize::MAX);
        assert!(done);
        assert_eq!(n, 16);
        assert_eq!(w.elapsed(), 10);
    }

    #[test]
    fn random_against_a_model() {
        // A simple model: every entry fires exactly when `now >= tick`.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut w = Wheel::new();
        let mut live: Vec<(u32, u64)> = Vec::new();
        let mut now = 0u64;
        for _ in 0..20_000 {
            match rand() % 4 {
                0 | 1 => {
                    let span = [64, 4096, 1 << 20, RANGE * 3][(rand() % 4) as usize];
                    let tick = now + 1 + rand() % span;
                    live.push((w.insert(tick, noop()), tick));
                }
                2 if !live.is_empty() => {
                    let i = (rand() as usize) % live.len();
                    let (k, _) = live.swap_remove(i);
                    w.remove(k);
                }
                _ => {
                    now += rand() % [3, 100, 5000, RANGE][(rand() % 4) as usize];
                    run(&mut w, now);
                    for &(k, tick) in &live {
                        assert_eq!(w.is_fired(k), tick <= now, "tick {tick} at {now}");
                    }
                    let earliest = live.iter().filter(|e| e.1 > now).map(|e| e.1).min();
                    match (w.next_expiration(), earliest) {
                        (Some(next), Some(e)) => assert!(next > now && next <= e),
                        (None, None) => {}
                        other => panic!("next_expiration vs model: {other:?}"),
                    }
                    live.retain(|&(k, tick)| {
                        if tick <= now {
                            w.remove(k);
                        }
                        tick > now
                    });
                }
            }
            assert_eq!(
                w.pending(),
                live.iter().filter(|e| !w.is_fired(e.0)).count()
            );
        }
    }
}
