//! A waker that panics inside a reactor poll: the panic reaches the thread
//! that polled, and that thread's `block_on` keeps working afterwards. (In a
//! file of its own: the reactor is shared by the whole test process, so the
//! panicking waker must not run on another test's thread.)

use std::future::Future;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use corio_reactor::{block_on, Async};

struct Boom;

impl Wake for Boom {
    fn wake(self: Arc<Self>) {
        panic!("boom");
    }
}

#[test]
fn block_on_survives_a_panicking_waker() {
    let (a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    let mut readable = b.readable();
    let waker = Waker::from(Arc::new(Boom));
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut readable).poll(&mut cx).is_pending());
    (&a).write_all(b"x").unwrap();

    // The next reactor poll runs the panicking waker, on this thread.
    let res = std::panic::catch_unwind(|| block_on(corio_timer::sleep(Duration::from_secs(5))));
    assert!(res.is_err(), "the waker's panic reaches the polling thread");

    // The thread's parker is usable again, and so is the reactor.
    block_on(corio_timer::sleep(Duration::from_millis(5)));
    let mut buf = [0; 1];
    let n = block_on(b.read_with(|s| std::io::Read::read(&mut &*s, &mut buf))).unwrap();
    assert_eq!(n, 1);
    drop(readable);
}
