//! `TCP_INQ` (Linux 4.18+): with every `recvmsg`, the kernel says how many
//! bytes are left in the socket's receive queue, and says "not empty" once the
//! peer's FIN has arrived. A read that leaves the queue empty has drained the
//! socket even when it filled the buffer exactly, so the next read waits for
//! an event instead of meeting `EAGAIN`: one system call less for every
//! message read with a buffer of its exact size (a `read_exact` of a fixed
//! frame, a length prefix).

use std::ffi::{c_int, c_void};
use std::io::{self, IoSliceMut};
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

/// At most this many buffers go to one `recvmsg` (Linux's `UIO_MAXIOV`; more
/// would fail with `EMSGSIZE`).
const MAX_IOV: usize = 1024;

/// Asks the kernel to report the bytes left after each `recvmsg` on `fd`, a
/// TCP socket. Returns whether it will (kernels before 4.18 refuse; reads then
/// simply get no report).
pub(crate) fn enable(fd: BorrowedFd<'_>) -> bool {
    let on: c_int = 1;
    // SAFETY: `fd` is an open fd for the duration of the borrow; the option
    // value points to a live `c_int` whose size is passed with it, and the
    // kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_INQ,
            ptr::from_ref(&on).cast::<c_void>(),
            size_of::<c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Room for one control message carrying an `int`, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct Control(MaybeUninit<[u8; 64]>);

/// Reads into `bufs` with `recvmsg`; returns the bytes read and, if the
/// kernel reported it, how many bytes are left in the receive queue (not 0
/// once the peer's FIN has arrived, even if no data is left).
pub(crate) fn recv(
    fd: BorrowedFd<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<(usize, Option<u32>)> {
    let mut control = Control(MaybeUninit::uninit());
    // SAFETY: `msghdr` is plain data (integers and pointers), for which all
    // zeroes is a valid value: no name, no buffers, no control buffer.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSliceMut` is guaranteed to be ABI-compatible with `iovec` on Unix.
    msg.msg_iov = bufs.as_mut_ptr().cast::<libc::iovec>();
    msg.msg_iovlen = bufs.len().min(MAX_IOV) as _;
    msg.msg_control = control.0.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = size_of::<Control>() as _;
    // SAFETY: `fd` is open for the duration of the borrow; `msg` points to
    // `msg_iovlen` iovecs describing the caller's writable buffers (borrowed
    // mutably for this call) and to a control buffer of `msg_controllen`
    // bytes, all of which outlive the call; the kernel writes at most that
    // much into each.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut inq = None;
    // SAFETY: `recvmsg` set `msg_controllen` to the bytes of control data it
    // wrote at the start of `control`; `CMSG_FIRSTHDR`/`CMSG_NXTHDR` only
    // return headers that lie entirely within that length (or null), and a
    // `TCP_CM_INQ` message carries one `int` after its header, read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_TCP && (*cmsg).cmsg_type == libc::TCP_CM_INQ {
                let left = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<c_int>());
                inq = u32::try_from(left).ok();
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, inq))
}
