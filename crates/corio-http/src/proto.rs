//! A sans-IO HTTP/1.1 client codec: bytes in, events out, no sockets inside.
//!
//! # The pieces
//!
//! One exchange on a connection goes through these steps, in this order; the
//! caller owns the socket and the buffers and calls them as bytes arrive:
//!
//! 1. [`encode_request_head`] writes the request line and headers into a
//!    `Vec<u8>`, refusing anything that could inject a header (CR, LF, NUL,
//!    bad names) and adding `Host` and the body's framing header itself. A
//!    chunked request body is written with [`encode_chunk`] and
//!    [`encode_last_chunk`].
//! 2. [`parse_response_head`] is called on the read buffer each time more
//!    bytes arrive; it returns `Ok(None)` until the head is complete, then the
//!    [`ResponseHead`] and how many bytes it took. Interim responses
//!    ([`ResponseHead::is_interim`]: `100 Continue`, `103 Early Hints`) are
//!    dropped by the caller, who parses again; `101` is an error, since we
//!    never ask to upgrade.
//! 3. [`body_kind`] decides how the body is delimited (RFC 9112 section 6.3),
//!    refusing ambiguous framing (the request smuggling vectors).
//! 4. A [`BodyDecoder`] turns the bytes after the head into body data,
//!    consuming exactly the body: when it says [`DecodeStep::Done`], whatever
//!    is left in the buffer belongs to the next response. [`BodyDecoder::eof`]
//!    is told when the peer closed.
//! 5. [`keep_alive`] says whether the connection may carry another exchange.
//!
//! # Invariants
//!
//! * **Bounded memory.** Nothing here buffers without a limit ([`Limits`]):
//!   the head is refused past `max_head_size` bytes or `max_headers` fields,
//!   any line past `max_line_len`, a chunk extension past
//!   `max_chunk_ext_len`, the trailer section past `max_trailer_size` bytes or
//!   `max_trailers` fields. Body data is never buffered at all: it is handed
//!   out as it arrives, as zero-copy [`Bytes`](bytes::Bytes) split off the
//!   caller's buffer.
//! * **Any split of the input works.** Every state of the body decoder keeps
//!   what it needs (a running count, a partial number) and resumes on the
//!   next byte; the head parser re-parses the buffered head, which is bounded.
//!   The tests feed every case whole and one byte at a time.
//! * **Strict line endings.** Lines end in CR LF: a bare LF or a bare CR in
//!   the head, a chunk header or the trailers is a parse error, as is a NUL
//!   byte or obs-fold (a header line starting with a space). Tolerating bare
//!   LF is how parsers come to disagree about where a message ends.
//! * **No partial effects on error.** A refused request head leaves the
//!   output buffer as it was; a decoder that returned an error keeps
//!   returning errors. After any parse or limit error the connection must be
//!   closed: where the next message starts is unknown.
//!
//! asyncio has no equivalent; this is the part of aiohttp's `HttpParser` /
//! `HttpResponseParser` and `StreamWriter` that knows the wire format.

mod decode;
mod encode;
mod framing;
mod head;
mod scan;
#[cfg(test)]
mod tests;

pub(crate) use decode::{BodyDecoder, DecodeStep};
pub(crate) use encode::{encode_chunk, encode_last_chunk, encode_request_head, RequestBody};
pub(crate) use framing::{body_kind, has_list_item, keep_alive, value_has_list_item, BodyKind};
pub(crate) use head::{incomplete_head, parse_response_head, ResponseHead};

/// Size limits for everything the codec reads from the peer.
///
/// Every limit that is hit fails with an [`is_limit`](crate::Error::is_limit)
/// error. The defaults are those of common clients (hyper, aiohttp):
///
/// | field | default |
/// |---|---|
/// | `max_headers` | 100 header fields |
/// | `max_head_size` | 64 KiB (status line, headers and the blank line) |
/// | `max_line_len` | 8 KiB per status or header line |
/// | `max_chunk_ext_len` | 4 KiB of chunk extensions per chunk |
/// | `max_trailer_size` | 16 KiB of trailer section |
/// | `max_trailers` | 32 trailer fields |
/// | `max_body_size` | none |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Most header fields in a response head.
    pub(crate) max_headers: usize,
    /// Most bytes in a response head, the final blank line included.
    pub(crate) max_head_size: usize,
    /// Most bytes in the status line or in one header line, CR LF excluded.
    pub(crate) max_line_len: usize,
    /// Most bytes of chunk extensions (after the chunk size) in one chunk header.
    pub(crate) max_chunk_ext_len: usize,
    /// Most bytes in the trailer section after the last chunk.
    pub(crate) max_trailer_size: usize,
    /// Most trailer fields after the last chunk.
    pub(crate) max_trailers: usize,
    /// Most bytes of body data (after removing the chunked framing), if limited.
    pub(crate) max_body_size: Option<u64>,
}

impl Limits {
    /// The default limits (see the table on [`Limits`]).
    pub(crate) const DEFAULT: Limits = Limits {
        max_headers: 100,
        max_head_size: 64 * 1024,
        max_line_len: 8 * 1024,
        max_chunk_ext_len: 4 * 1024,
        max_trailer_size: 16 * 1024,
        max_trailers: 32,
        max_body_size: None,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
