//! Auto traits of every public type: which are `Send`, `Sync` and `Unpin`.
//! Wrong auto-trait impls were behind several advisories in this field, so
//! they are pinned down here (tokio's `tests/async_send_sync.rs` idea).

use std::marker::PhantomData;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;

use corio_reactor::net::{
    Incoming, ReadHalf, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixIncoming,
    UnixListener, UnixStream, WriteHalf,
};
use corio_reactor::{Async, Parker, PollGuard, Reactor, Readable, Writable};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}

/// Asserts that `T` is not `Send`: ambiguous if it is.
trait AmbiguousIfSend<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

/// A fd source that is neither `Send` nor `Sync`.
#[derive(Debug)]
struct Local(StdUnixStream, PhantomData<Rc<()>>);
impl std::os::fd::AsFd for Local {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[test]
fn handles_are_send_sync_unpin() {
    macro_rules! all {
        ($($t:ty),* $(,)?) => {$( send::<$t>(); sync::<$t>(); unpin::<$t>(); )*};
    }
    all!(
        TcpListener,
        TcpStream,
        ReadHalf,
        WriteHalf,
        UdpSocket,
        UnixListener,
        UnixStream,
        UnixDatagram,
        Incoming<'static>,
        UnixIncoming<'static>,
        Async<StdUnixStream>,
        Readable,
        Writable,
        Parker,
        Reactor,
    );
    // The poll lock is released on the thread that took it.
    <PollGuard<'static> as AmbiguousIfSend<_>>::some_item();
    unpin::<PollGuard<'static>>();
}

#[test]
fn async_follows_its_payload() {
    // `Async<T>` is Send/Sync exactly when `T` is.
    <Async<Local> as AmbiguousIfSend<_>>::some_item();
    unpin::<Async<Local>>();
}

#[test]
fn futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let l = corio_reactor::block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    is_send(&l.accept());
    is_send(&TcpStream::connect("127.0.0.1:1"));
    is_send(&TcpStream::connect_timeout(
        "127.0.0.1:1",
        std::time::Duration::ZERO,
    ));
    is_send(&UnixStream::connect("/nonexistent"));
    let (a, _b) = StdUnixStream::pair().unwrap();
    let a = Async::new(a).unwrap();
    is_send(&a.readable());
    is_send(&a.read_with(|_| Ok(())));
}
