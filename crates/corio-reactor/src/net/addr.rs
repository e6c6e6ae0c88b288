//! Socket addresses and name resolution that does not block the loop.
//!
//! # Design
//!
//! [`ToSocketAddrs`] is a sealed trait over the same types as std's. Each value
//! first says how it resolves: an address or an `ip:port` string is parsed on
//! the spot (no thread, no system call); only a host *name* needs
//! `getaddrinfo`, which blocks, so [`resolve`] runs it on a short-lived helper
//! thread named `corio-resolve` and awaits the answer through a one-shot slot.
//! asyncio does the same with `loop.getaddrinfo` on its default executor. (The
//! corio runtime has a blocking pool, `unblock`; this crate does not depend on
//! the executor, so it uses its own thread. Name lookups are rare next to the
//! connections they open.)

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::reactor::lock;

/// How a [`ToSocketAddrs`] value resolves.
#[doc(hidden)]
#[derive(Debug)]
pub enum Plan {
    /// Already addresses: nothing to look up.
    Ready(Vec<SocketAddr>),
    /// A host name and a port, for `getaddrinfo`.
    HostPort(String, u16),
    /// A `host:port` string, for `getaddrinfo`.
    Text(String),
}

#[allow(unreachable_pub)]
mod sealed {
    /// Seals [`ToSocketAddrs`](super::ToSocketAddrs) and carries its method.
    pub trait Sealed {
        /// How this value resolves.
        fn plan(&self) -> super::Plan;
    }
}

/// Values that resolve to one or more socket addresses, without blocking the
/// event loop.
///
/// Implemented for the same types as [`std::net::ToSocketAddrs`]: socket
/// addresses, `(ip, port)` pairs, `(host, port)` pairs, `"host:port"` strings
/// and slices of addresses. Addresses and IP literals are used as they are;
/// host names are looked up on a helper thread.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::TcpListener;
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// corio_reactor::block_on(async {
///     let a = TcpListener::bind("127.0.0.1:0").await?;
///     let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
///     let c = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
///     let d = TcpListener::bind(("localhost", 0)).await?; // looked up off the loop
///     # let _ = (a, b, c, d);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

impl<T: sealed::Sealed + ?Sized> ToSocketAddrs for T {}

impl sealed::Sealed for SocketAddr {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![*self])
    }
}

impl sealed::Sealed for SocketAddrV4 {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![SocketAddr::V4(*self)])
    }
}

impl sealed::Sealed for SocketAddrV6 {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![SocketAddr::V6(*self)])
    }
}

impl sealed::Sealed for (IpAddr, u16) {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![SocketAddr::new(self.0, self.1)])
    }
}

impl sealed::Sealed for (Ipv4Addr, u16) {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl sealed::Sealed for (Ipv6Addr, u16) {
    fn plan(&self) -> Plan {
        Plan::Ready(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl sealed::Sealed for (&str, u16) {
    fn plan(&self) -> Plan {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Plan::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Plan::HostPort(self.0.to_owned(), self.1),
        }
    }
}

impl sealed::Sealed for (String, u16) {
    fn plan(&self) -> Plan {
        (self.0.as_str(), self.1).plan()
    }
}

impl sealed::Sealed for str {
    fn plan(&self) -> Plan {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Plan::Ready(vec![addr]),
            Err(_) => Plan::Text(self.to_owned()),
        }
    }
}

impl sealed::Sealed for String {
    fn plan(&self) -> Plan {
        self.as_str().plan()
    }
}

impl sealed::Sealed for [SocketAddr] {
    fn plan(&self) -> Plan {
        Plan::Ready(self.to_vec())
    }
}

impl<const N: usize> sealed::Sealed for [SocketAddr; N] {
    fn plan(&self) -> Plan {
        Plan::Ready(self.to_vec())
    }
}

impl sealed::Sealed for Vec<SocketAddr> {
    fn plan(&self) -> Plan {
        Plan::Ready(self.clone())
    }
}

impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn plan(&self) -> Plan {
        (**self).plan()
    }
}

/// Resolves `addr` to socket addresses; host names are looked up on a helper
/// thread. Never returns an empty list.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.plan() {
        Plan::Ready(addrs) => addrs,
        Plan::HostPort(host, port) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)))?
                .await?
        }
        Plan::Text(text) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(&text))?.await?
        }
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Resolves `addr` and runs `op` on each address in turn until one succeeds;
/// returns the last error if none does.
pub(crate) async fn try_each<A, T, F, Fut>(addr: &A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs + ?Sized,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr).await? {
        match op(a).await {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}

type LookupResult = io::Result<Vec<SocketAddr>>;

/// The slot a lookup thread fills and its future reads.
struct Slot {
    state: Mutex<(Option<LookupResult>, Option<Waker>)>,
}

/// Runs a blocking lookup on a helper thread.
fn lookup<I>(f: impl FnOnce() -> io::Result<I> + Send + 'static) -> io::Result<Lookup>
where
    I: Iterator<Item = SocketAddr>,
{
    let slot = Arc::new(Slot {
        state: Mutex::new((None, None)),
    });
    let sender = Sender(slot.clone());
    std::thread::Builder::new()
        .name("corio-resolve".into())
        .spawn(move || {
            let result = f().map(|it| it.collect());
            sender.send(result);
        })?;
    Ok(Lookup(slot))
}

/// Fills the slot; if dropped unfilled (the lookup panicked), fills it with an
/// error so that the awaiting task does not hang.
struct Sender(Arc<Slot>);

impl Sender {
    fn send(self, result: LookupResult) {
        self.fill(result);
    }

    fn fill(&self, result: LookupResult) {
        let waker = {
            let mut state = lock(&self.0.state);
            if state.0.is_some() {
                return;
            }
            state.0 = Some(result);
            state.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.fill(Err(io::Error::other("the name lookup thread panicked")));
    }
}

/// The future of a lookup running on a helper thread.
struct Lookup(Arc<Slot>);

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lookup").finish_non_exhaustive()
    }
}

impl Future for Lookup {
    type Output = LookupResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LookupResult> {
        let mut state = lock(&self.0.state);
        if let Some(result) = state.0.take() {
            // Leave the slot non-empty so a late `Sender::drop` adds nothing.
            state.0 = Some(Ok(Vec::new()));
            return Poll::Ready(result);
        }
        match &mut state.1 {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_need_no_lookup() {
        use sealed::Sealed;
        assert!(matches!("127.0.0.1:80".plan(), Plan::Ready(v) if v.len() == 1));
        assert!(matches!("[::1]:80".plan(), Plan::Ready(_)));
        assert!(matches!(("::1", 80).plan(), Plan::Ready(_)));
        assert!(matches!("localhost:80".plan(), Plan::Text(_)));
        assert!(matches!(("localhost", 80).plan(), Plan::HostPort(..)));
    }

    #[test]
    fn lookup_on_a_helper_thread() {
        let addrs = crate::block_on(resolve("localhost:80")).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        let err = crate::block_on(resolve("no port here")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
