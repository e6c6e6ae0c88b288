//! `Async<T>`: registration, readiness futures, `read_with`/`write_with`,
//! `into_inner`, and deregistration waking the tasks that wait on a source.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use corio_reactor::{block_on, Async};
use futures_lite::future;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` inside `block_on`, failing if it takes longer than `limit`.
fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> T {
    block_on(corio_timer::timeout(limit, fut)).expect("the operation hung")
}

#[test]
fn read_with_waits_for_data() {
    let (a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(20 * MS);
        (&a).write_all(b"late").unwrap();
        a
    });
    let mut buf = [0; 8];
    let start = Instant::now();
    let n = within(
        Duration::from_secs(5),
        b.read_with(|s| (&*s).read(&mut buf)),
    )
    .unwrap();
    assert_eq!(&buf[..n], b"late");
    assert!(start.elapsed() >= 15 * MS);
    drop(writer.join().unwrap());
}

#[test]
fn write_with_waits_for_room() {
    let (a, b) = UnixStream::pair().unwrap();
    let a = Async::new(a).unwrap();
    // Fill the socket buffer.
    let chunk = [7u8; 4096];
    let mut sent = 0usize;
    loop {
        match a.get_ref().write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    // A reader thread drains it slowly; the write must complete.
    let reader = thread::spawn(move || {
        thread::sleep(20 * MS);
        let mut total = 0;
        let mut buf = vec![0; 65536];
        while total < sent + 4096 {
            total += (&b).read(&mut buf).unwrap();
        }
        total
    });
    let n = within(
        Duration::from_secs(5),
        a.write_with(|s| (&*s).write(&chunk)),
    )
    .unwrap();
    assert!(n > 0);
    if n < 4096 {
        within(Duration::from_secs(5), (&a).write_all(&chunk[n..])).unwrap();
    }
    assert_eq!(reader.join().unwrap(), sent + 4096);
}

#[test]
fn async_read_and_write_traits() {
    let (a, b) = UnixStream::pair().unwrap();
    let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
    within(Duration::from_secs(5), async {
        a.write_all(b"hello world").await.unwrap();
        a.flush().await.unwrap();
        let mut buf = [0; 11];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello world");
        // `&Async<T>` works too.
        (&b).write_all(b"back").await.unwrap();
        let mut back = [0; 4];
        (&a).read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"back");
    });
}

#[test]
fn many_tasks_wait_on_one_source() {
    let (a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    within(Duration::from_secs(5), async {
        let waiters = future::zip(
            future::zip(b.readable(), b.readable()),
            future::zip(b.readable(), b.readable()),
        );
        let poke = async {
            corio_timer::sleep(10 * MS).await;
            (&a).write_all(b"!").unwrap();
        };
        let (((r1, r2), (r3, r4)), ()) = future::zip(waiters, poke).await;
        for r in [r1, r2, r3, r4] {
            r.unwrap();
        }
    });
}

#[test]
fn a_dropped_readiness_future_leaves_the_source_usable() {
    let (a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    within(Duration::from_secs(5), async {
        // Register, then cancel.
        let mut r = b.readable();
        assert!(future::poll_once(&mut r).await.is_none());
        drop(r);
        (&a).write_all(b"x").unwrap();
        b.readable().await.unwrap();
        let mut buf = [0; 1];
        assert_eq!(b.read_with(|s| (&*s).read(&mut buf)).await.unwrap(), 1);
    });
}

#[test]
fn into_inner_hands_back_the_object() {
    let (a, b) = UnixStream::pair().unwrap();
    let a = Async::new(a).unwrap();
    let a: UnixStream = a.into_inner().unwrap();
    a.set_nonblocking(false).unwrap();
    (&a).write_all(b"ok").unwrap();
    let mut buf = [0; 2];
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ok");
    // It can be registered again.
    let a = Async::new(a).unwrap();
    within(Duration::from_secs(5), a.writable()).unwrap();
}

#[test]
fn regular_files_are_rejected_with_an_error() {
    let path = std::env::temp_dir().join(format!("corio-reactor-file-{}", std::process::id()));
    let file = File::create(&path).unwrap();
    let err = Async::new(file).unwrap_err();
    assert!(err.raw_os_error().is_some(), "{err:?}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn dropping_the_source_wakes_its_waiters_with_an_error() {
    // A readiness future does not borrow the `Async`: when the `Async` goes
    // away while the future waits, the future fails instead of hanging.
    let (_a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    let readable = b.readable();
    let writable_never = {
        // The write side is writable, so only the read waiter really waits.
        b.readable()
    };
    let start = Instant::now();
    let (r1, r2) = within(Duration::from_secs(5), async move {
        let dropper = async move {
            corio_timer::sleep(20 * MS).await;
            drop(b);
        };
        let (r1, (r2, ())) = future::zip(readable, future::zip(writable_never, dropper)).await;
        (r1, r2)
    });
    assert!(start.elapsed() >= 15 * MS);
    for r in [r1, r2] {
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::NotConnected);
    }
}

#[test]
fn dropping_the_source_on_another_thread_wakes_the_waiter() {
    let (_a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    let readable = b.readable();
    let (tx, rx) = mpsc::channel::<Async<UnixStream>>();
    let dropper = thread::spawn(move || {
        let b = rx.recv().unwrap();
        thread::sleep(20 * MS);
        drop(b);
    });
    tx.send(b).unwrap();
    let err = within(Duration::from_secs(5), readable).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected);
    dropper.join().unwrap();
}

#[test]
fn sources_register_once_and_come_and_go() {
    // Many sources created and dropped, some with waiters: no fd leaks into
    // the poller, and keys are reused without confusion.
    within(Duration::from_secs(10), async {
        for _ in 0..200 {
            let (a, b) = UnixStream::pair().unwrap();
            let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
            a.write_with(|s| (&*s).write(b"z")).await.unwrap();
            let mut buf = [0; 1];
            b.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
        }
    });
}

/// The last data and the end of stream arriving in one event: a read that
/// takes the data must not make the end of stream go unreported.
#[test]
fn data_and_end_of_stream_arriving_together_are_both_seen() {
    for wait_first in [false, true] {
        let (a, b) = UnixStream::pair().unwrap();
        let mut b = Async::new(b).unwrap();
        let writer = thread::spawn(move || {
            if wait_first {
                // Let the reader find nothing and wait first.
                thread::sleep(20 * MS);
            }
            (&a).write_all(&[7; 100]).unwrap();
            drop(a); // the end of stream, right behind the data
        });
        within(Duration::from_secs(5), async {
            let mut buf = [0; 4096];
            let n = b.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[7; 100][..]);
            assert_eq!(b.read(&mut buf).await.unwrap(), 0, "end of stream");
            assert_eq!(b.read(&mut buf).await.unwrap(), 0, "and again");
        });
        writer.join().unwrap();
    }
}

/// How a writer thread sends its last data and the end of stream.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Data and end of stream back to back (often one event).
    Together,
    /// The reader waits first, then both arrive back to back.
    ReaderWaitsFirst,
    /// The data, a pause (the reader drains it with a short read), then the
    /// end of stream as an event of its own.
    Apart,
    /// Five pieces with pauses, then the end of stream.
    Pieces,
}

/// Writes 500 bytes to `w` as `ending` says, then closes it.
fn write_then_close(mut w: impl Write, ending: Ending) {
    let data = [7u8; 500];
    match ending {
        Ending::Together => w.write_all(&data).unwrap(),
        Ending::ReaderWaitsFirst => {
            thread::sleep(10 * MS);
            w.write_all(&data).unwrap();
        }
        Ending::Apart => {
            w.write_all(&data).unwrap();
            thread::sleep(10 * MS);
        }
        Ending::Pieces => {
            for piece in data.chunks(100) {
                w.write_all(piece).unwrap();
                thread::sleep(2 * MS);
            }
        }
    }
    drop(w);
}

/// Reads `r` with a buffer of `size` bytes until the end of stream, which
/// must then be reported again. With 4096 every read that gets data is short;
/// with 100 (the size of `Ending::Pieces`' pieces) reads fill the buffer
/// exactly, and the last one may take the last byte before the end.
async fn read_to_the_end(mut r: impl futures_lite::AsyncRead + Unpin, size: usize) -> usize {
    let mut buf = vec![0; size];
    let mut total = 0;
    loop {
        match r.read(&mut buf).await.unwrap() {
            0 => break,
            n => total += n,
        }
    }
    assert_eq!(r.read(&mut buf).await.unwrap(), 0, "end of stream, again");
    total
}

/// The net streams treat a short read as having drained the socket (where
/// the poller reports the peer's end of stream), and TCP streams on Linux a
/// read after which the kernel reports nothing left: whichever way the last
/// data and the end of stream arrive, all the data and then the end are seen.
#[test]
fn stream_short_reads_never_hide_the_end_of_stream() {
    use corio_reactor::net;
    let endings = [
        Ending::Together,
        Ending::ReaderWaitsFirst,
        Ending::Apart,
        Ending::Pieces,
    ];
    for round in 0..48 {
        let ending = endings[round % endings.len()];
        let size = if round % 8 < 4 { 4096 } else { 100 };
        // Unix stream sockets.
        let (a, b) = UnixStream::pair().unwrap();
        let b = net::UnixStream::try_from(b).unwrap();
        let writer = thread::spawn(move || write_then_close(a, ending));
        let got = within(Duration::from_secs(5), read_to_the_end(b, size));
        assert_eq!(got, 500, "{ending:?}, reads of {size}");
        writer.join().unwrap();
        // TCP on 127.0.0.1.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            write_then_close(conn, ending);
        });
        let got = within(Duration::from_secs(5), async {
            read_to_the_end(net::TcpStream::connect(addr).await.unwrap(), size).await
        });
        assert_eq!(got, 500, "{ending:?}, reads of {size}");
        writer.join().unwrap();
    }
}

/// Data left behind by a read that filled its buffer is read without any
/// new event.
#[test]
fn data_left_after_a_full_read_is_read_without_a_new_event() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut b = Async::new(b).unwrap();
    (&a).write_all(&[1; 100]).unwrap();
    within(Duration::from_secs(5), async {
        let mut got = 0;
        let mut buf = [0; 10];
        while got < 100 {
            got += b.read(&mut buf).await.unwrap();
        }
        assert_eq!(got, 100);
    });
    drop(a);
}

/// `readable()` after the caller's own read met `WouldBlock` waits for real
/// readiness: it neither returns at once on stale readiness (the caller would
/// spin) nor misses data that is already there.
#[test]
fn readable_asks_for_fresh_readiness() {
    let (a, b) = UnixStream::pair().unwrap();
    let b = Async::new(b).unwrap();
    let mut buf = [0; 8];
    let err = b.get_ref().read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    let writer = thread::spawn(move || {
        thread::sleep(20 * MS);
        (&a).write_all(b"now").unwrap();
        a
    });
    let start = Instant::now();
    within(Duration::from_secs(5), b.readable()).unwrap();
    assert!(
        start.elapsed() >= 15 * MS,
        "readable() returned before data"
    );
    assert_eq!(b.get_ref().read(&mut buf).unwrap(), 3);
    let a = writer.join().unwrap();

    // Data already there: readable() completes although no new data comes.
    (&a).write_all(b"more").unwrap();
    within(Duration::from_secs(5), b.readable()).unwrap();
    within(Duration::from_secs(5), b.readable()).unwrap();
    assert_eq!(b.get_ref().read(&mut buf).unwrap(), 4);
}

/// A writer that fills the socket buffer (short writes, then `WouldBlock`)
/// and a slow reader: every byte arrives and the writer never hangs.
#[test]
fn a_writer_that_fills_the_buffer_resumes_as_the_reader_drains() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut a = Async::new(a).unwrap();
    const N: usize = 4 << 20;
    let reader = thread::spawn(move || {
        let mut total = 0;
        let mut buf = vec![0; 7_000];
        loop {
            let n = (&b).read(&mut buf).unwrap();
            if n == 0 {
                return total;
            }
            total += n;
            if total % 5 == 0 {
                thread::sleep(Duration::from_micros(50));
            }
        }
    });
    within(Duration::from_secs(20), async {
        let data = vec![3u8; N];
        a.write_all(&data).await.unwrap();
    });
    drop(a);
    assert_eq!(reader.join().unwrap(), N);
}
