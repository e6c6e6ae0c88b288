//! Sockets: TCP, UDP and Unix domain sockets over the reactor.
//!
//! | asyncio | corio-reactor |
//! |---|---|
//! | `open_connection(host, port)` | [`TcpStream::connect`] (reader and writer in one; [`TcpStream::split`]) |
//! | `wait_for(open_connection(...), t)` | [`TcpStream::connect_timeout`] |
//! | `start_server(cb, host, port)` | [`TcpListener::bind`] + [`accept`](TcpListener::accept) / [`incoming`](TcpListener::incoming) |
//! | `create_datagram_endpoint` | [`UdpSocket`] |
//! | `open_unix_connection`, `start_unix_server` | [`UnixStream::connect`], [`UnixListener`] |
//! | `writer.write_eof()` | [`TcpStream::shutdown`]`(Shutdown::Write)` or `close().await` |
//!
//! Every type is a cheap, cloneable handle to one registered socket: clones
//! share it, and the socket closes when the last clone is dropped. Streams
//! implement the futures-io [`AsyncRead`](futures_lite::AsyncRead) and
//! [`AsyncWrite`](futures_lite::AsyncWrite) traits (as futures-lite
//! re-exports them), also for `&TcpStream` / `&UnixStream`.
//!
//! Addresses are anything that implements [`ToSocketAddrs`]: literal
//! addresses are used as they are, and host names are resolved on a helper
//! thread so that the loop never blocks on `getaddrinfo`.
//!
//! # Errors and faults
//!
//! Errors are [`std::io::Error`]s carrying the OS error. The fault cases end
//! and never hang: a refused connection is `ConnectionRefused`; a peer that
//! resets the connection gives `ConnectionReset` (or EOF, if the reset came
//! after everything was read); a peer that closes gives `Ok(0)` to a task
//! waiting in a read; a connect that outlives its
//! [`connect_timeout`](TcpStream::connect_timeout) is `TimedOut`; a socket
//! shut down (`shutdown(Shutdown::Both)`) by one task while another waits in a
//! read gives that reader `Ok(0)`.

mod addr;
mod tcp;
mod udp;
mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{Incoming, ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixIncoming, UnixListener, UnixStream};
