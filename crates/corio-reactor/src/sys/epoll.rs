//! The Linux backend: epoll, with `EPOLLRDHUP` and an eventfd for
//! notifications.
//!
//! Every source is registered once for `IN | OUT | RDHUP | ET`; re-arming is
//! an `EPOLL_CTL_MOD` with the same flags, which queues the source again if
//! any direction is ready. The eventfd is registered edge-triggered too: each
//! write to it is a new edge, so a notification costs one `write` and the
//! wait never reads it back (only a counter near overflow is reset).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

use super::Readiness;

/// Short reads of streams are taken as drained: the end of stream is reported.
pub(crate) const REPORTS_READ_CLOSED: bool = true;

/// The key of the eventfd; the reactor's slab never hands it out.
const NOTIFY_KEY: u64 = u64::MAX;

/// The longest single wait; a longer timeout just waits again. Keeps the
/// timeout in `epoll_pwait`'s `int` of milliseconds (no `epoll_pwait2`, which
/// kernels before 5.11 lack).
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// What a registered source is interested in: both directions and the end of
/// stream, edge-triggered.
fn interest() -> EventFlags {
    EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET
}

/// An epoll instance and its eventfd.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &notifier,
            EventData::new_u64(NOTIFY_KEY),
            EventFlags::IN | EventFlags::ET,
        )?;
        Ok(Poller { epoll, notifier })
    }

    /// Registers `fd` under `key`. The fd must be deleted before it is
    /// closed, or epoll may keep reporting it under `key`.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        Ok(epoll::add(&self.epoll, fd, data(key), interest())?)
    }

    /// Re-arms `fd`: every direction that is ready now is reported again.
    pub(crate) fn rearm(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        Ok(epoll::modify(&self.epoll, fd, data(key), interest())?)
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        Ok(epoll::delete(&self.epoll, fd)?)
    }

    /// Waits until an event, a notification or `timeout` (`None`: no limit).
    /// Sub-millisecond timeouts are rounded up, never down, so a wait for a
    /// timer deadline does not wake just before it.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| {
            let t = t.min(MAX_WAIT);
            Timespec {
                tv_sec: t.as_secs() as _,
                tv_nsec: t.subsec_nanos() as _,
            }
        });
        events.list.clear();
        epoll::wait(
            &self.epoll,
            spare_capacity(&mut events.list),
            timeout.as_ref(),
        )?;
        Ok(())
    }

    /// Wakes the current or next [`wait`](Poller::wait).
    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.notifier, &one) {
            Ok(_) => Ok(()),
            // The counter is at its maximum (after 2^64 - 2 notifications):
            // reset it and notify again.
            Err(rustix::io::Errno::AGAIN) => {
                let mut buf = [0; 8];
                let _ = rustix::io::read(&self.notifier, &mut buf);
                rustix::io::write(&self.notifier, &one)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl AsFd for Poller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

fn data(key: usize) -> EventData {
    EventData::new_u64(key as u64)
}

/// The events of one wait.
pub(crate) struct Events {
    list: Vec<epoll::Event>,
}

// SAFETY: an `epoll::Event` is plain data (flags and a 64-bit payload); it is
// not `Send` only because the payload may also be read as a raw pointer, and
// the only payloads here are the keys this module writes as integers.
unsafe impl Send for Events {}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("len", &self.list.len())
            .finish()
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            list: Vec::with_capacity(1024),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// The sources' events (the eventfd's are left out: they only end a wait).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Readiness> + '_ {
        self.list.iter().filter_map(|ev| {
            let (flags, key) = (ev.flags, ev.data.u64());
            if key == NOTIFY_KEY {
                return None;
            }
            let closed = flags.intersects(EventFlags::HUP | EventFlags::RDHUP);
            let failed = flags.contains(EventFlags::ERR);
            Some(Readiness {
                key: key as usize,
                readable: closed || failed || flags.intersects(EventFlags::IN | EventFlags::PRI),
                writable: failed || flags.intersects(EventFlags::OUT | EventFlags::HUP),
                read_closed: closed,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    const MS: Duration = Duration::from_millis(1);

    fn events(poller: &Poller, timeout: Duration) -> Vec<Readiness> {
        let mut events = Events::new();
        poller.wait(&mut events, Some(timeout)).unwrap();
        events.iter().collect()
    }

    /// A notification ends one wait (however many were sent), is not
    /// reported as an event, and the next wait blocks again: the eventfd is
    /// edge-triggered, so it needs neither a read nor a re-arm.
    #[test]
    fn a_notification_ends_one_wait_only() {
        let poller = Poller::new().unwrap();
        for _ in 0..3 {
            poller.notify().unwrap();
        }
        let start = Instant::now();
        assert!(events(&poller, Duration::from_secs(10)).is_empty());
        assert!(start.elapsed() < Duration::from_secs(5));
        let start = Instant::now();
        assert!(events(&poller, 50 * MS).is_empty());
        assert!(start.elapsed() >= 45 * MS, "{:?}", start.elapsed());
    }

    /// Each direction is reported when it becomes ready, once (edge-triggered);
    /// a re-arm reports what is ready now; the peer's end of stream comes
    /// with `read_closed`.
    #[test]
    fn edges_rearm_and_the_end_of_stream() {
        let poller = Poller::new().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        poller.add(b.as_fd(), 7).unwrap();
        // A new socket is writable at once, and nothing more.
        let first = events(&poller, 10 * MS);
        assert_eq!(first.len(), 1);
        assert!(first[0].writable && !first[0].readable && !first[0].read_closed);
        assert_eq!(first[0].key, 7);
        assert!(
            events(&poller, 10 * MS).is_empty(),
            "edge-triggered: no repeat"
        );

        (&a).write_all(b"x").unwrap();
        let data = events(&poller, 1000 * MS);
        assert!(data
            .iter()
            .any(|e| e.key == 7 && e.readable && !e.read_closed));

        // Nothing new happened, but a re-arm reports the unread byte again.
        poller.rearm(b.as_fd(), 7).unwrap();
        let again = events(&poller, 1000 * MS);
        assert!(again.iter().any(|e| e.key == 7 && e.readable));

        a.shutdown(Shutdown::Write).unwrap();
        let closed = events(&poller, 1000 * MS);
        assert!(closed
            .iter()
            .any(|e| e.key == 7 && e.readable && e.read_closed));

        poller.delete(b.as_fd()).unwrap();
        (&a).write_all(b"y").unwrap_err(); // the write side is shut down
        drop(a);
        assert!(events(&poller, 10 * MS).is_empty(), "deleted: no events");
    }
}
