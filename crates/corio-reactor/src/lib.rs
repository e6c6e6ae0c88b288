//! corio's I/O driver: asyncio's event-loop I/O, for Rust.
//!
//! This crate waits on sockets and other file descriptors with the OS poller
//! (epoll directly on Linux; kqueue and event ports through the [`polling`]
//! crate elsewhere), and fires
//! corio-timer's timers while it waits:
//!
//! | asyncio | corio-reactor |
//! |---|---|
//! | the selector inside the event loop | [`Reactor`] (one per process) |
//! | `loop.add_reader(fd, cb)` / `add_writer` | [`Async::readable`] / [`Async::writable`] |
//! | `loop.sock_recv`, `sock_sendall`, ... | [`Async::read_with`] / [`Async::write_with`], `AsyncRead`/`AsyncWrite` |
//! | `open_connection`, `start_server` | [`net::TcpStream::connect`], [`net::TcpListener::bind`] |
//! | `asyncio.run(main())` with no tasks | [`block_on`] |
//!
//! # A short tour
//!
//! ```
//! use corio_reactor::net::{TcpListener, TcpStream};
//! use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
//! use std::time::{Duration, Instant};
//!
//! corio_reactor::block_on(async {
//!     // A server and a client, driven concurrently on this one thread.
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = async {
//!         let (mut conn, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf).await?;
//!         conn.write_all(&buf).await // echo
//!     };
//!     let client = async {
//!         let mut s = TcpStream::connect(addr).await?;
//!         s.write_all(b"hello").await?;
//!         let mut back = [0; 5];
//!         s.read_exact(&mut back).await?;
//!         assert_eq!(&back, b"hello");
//!         std::io::Result::Ok(())
//!     };
//!     let (a, b) = future::zip(server, client).await;
//!     a?;
//!     b?;
//!
//!     // Timers fire while the thread waits in the reactor.
//!     let start = Instant::now();
//!     corio_timer::sleep(Duration::from_millis(10)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(10));
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```
//!
//! # How the pieces relate
//!
//! * [`Reactor`] owns the poller and the registered sources. Exactly one
//!   thread at a time polls it, through a [`PollGuard`]; the poll waits until
//!   an I/O event, the next timer deadline or [`Reactor::notify`], then wakes
//!   the tasks whose sockets are ready and fires the expired timers.
//! * [`Async<T>`] registers one non-blocking fd, *once*, edge-triggered, and
//!   keeps the readiness the poller last reported: an operation runs while its
//!   direction is ready and costs no poller call; only one that would block
//!   clears the readiness and waits for the next event. The [`net`] types are
//!   thin handles around it.
//! * [`Parker`] parks an idle thread *in* the reactor: it polls if nobody else
//!   does, or waits to take over from the thread that does. [`block_on`] is a
//!   loop over a `Parker`; the corio runtime gives each executor worker one,
//!   through the executor's `Park` hook.
//!
//! # Who drives the reactor, and timers
//!
//! The reactor is created on first use (the first socket, `Async` or
//! `block_on`). When it is created it claims corio-timer's driver for the rest
//! of the process: from then on, timers fire when some thread polls the
//! reactor, instead of on the timer crate's helper thread, so a program that
//! waits on sockets and timers wakes up once for both. The price is a rule:
//! **once the reactor exists, futures that use it (sockets, and from then on
//! timers) make progress only while some thread drives it** — a
//! [`block_on`], a thread parked on a [`Parker`], or the corio runtime. Under
//! a foreign executor, run the future inside [`block_on`] (or keep one thread
//! in `block_on` on a never-ending future). A program that uses only
//! corio-timer never creates the reactor, and its timers keep their helper
//! thread.
//!
//! # Platform
//!
//! Unix only for now: Linux (epoll), and macOS, the BSDs and illumos through
//! `polling`.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

#[cfg(not(unix))]
compile_error!("corio-reactor supports Unix platforms only for now");

mod async_io;
pub mod net;
mod park;
mod reactor;
mod sys;

pub use async_io::{Async, Readable, Writable};
pub use park::{block_on, Parker};
pub use reactor::{PollGuard, Reactor};
