//! The body decoder: [`BodyDecoder`] turns the bytes after a response head
//! into body data, for every [`BodyKind`].
//!
//! # States
//!
//! `Length` and `Close` count bytes. The chunked states follow the grammar of
//! RFC 9112 section 7.1, one byte at a time for the framing and in bulk for the
//! data:
//!
//! ```text
//! Size --hex--> Size --SP/HTAB--> SizeWs --';'--> Ext --CR--> SizeLf --LF--> Data (size > 0)
//!                 \--';'--> Ext      \--CR--> SizeLf                    \--> Trailers (size 0)
//!                  \--CR--> SizeLf
//! Data --(size bytes)--> DataCr --CR--> DataLf --LF--> Size
//! Trailers --(empty line)--> Done
//! ```
//!
//! Each state holds a bounded amount: a size (overflow is an error), a count
//! of extension bytes (at most `max_chunk_ext_len`), the trailer bytes (at
//! most `max_trailer_size`). Chunk extensions are skipped, not interpreted;
//! they may hold any byte but control bytes other than HTAB. Whitespace
//! (BWS) is allowed between the size and the `;` or CR; a `+`, `-`, `0x` or
//! anything else that is not a hex digit where the size is expected is an
//! error. Lines end in CR LF; a bare LF is an error.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;

use super::scan::{scan_block, BlockRules};
use super::{BodyKind, Limits};
use crate::Error;

/// What [`BodyDecoder::decode`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeStep {
    /// Body data, in order; never empty.
    Data(Bytes),
    /// All of the input was consumed and the body is not complete: read more
    /// bytes (or call [`BodyDecoder::eof`] if the peer closed).
    NeedMore,
    /// The body is complete. Bytes left in the input are not part of it: on
    /// a kept-alive connection they start the next response.
    Done,
}

/// A sans-IO decoder for one response body.
///
/// Feed it the bytes after the head with [`decode`](BodyDecoder::decode),
/// which takes body data off the front of the buffer and returns it as
/// zero-copy [`Bytes`], until it says [`DecodeStep::Done`]; it never
/// consumes bytes past the end of the body. When the peer closes the
/// connection, call [`eof`](BodyDecoder::eof) (after `decode` returned
/// [`DecodeStep::NeedMore`]).
///
/// Once an error was returned, every later call returns an error too.
#[derive(Debug)]
pub(crate) struct BodyDecoder {
    state: State,
    limits: Limits,
    /// Body bytes announced so far (chunk sizes) or handed out (close-delimited).
    received: u64,
    trailers: Option<HeaderMap>,
}

#[derive(Debug)]
enum State {
    Length { remaining: u64 },
    Close,
    Size { size: u64, digits: usize },
    SizeWs { size: u64, len: usize },
    Ext { size: u64, len: usize },
    SizeLf { size: u64 },
    Data { remaining: u64 },
    DataCr,
    DataLf,
    Trailers { buf: Vec<u8> },
    Done,
    Failed,
}

/// Most digits (leading zeros included) in a chunk size.
const MAX_SIZE_DIGITS: usize = 32;

impl BodyDecoder {
    /// A decoder for a body delimited as `kind`, enforcing `limits`
    /// (`max_body_size`, `max_chunk_ext_len`, `max_trailer_size`,
    /// `max_trailers`, `max_line_len` for trailer lines).
    pub(crate) fn new(kind: BodyKind, limits: Limits) -> BodyDecoder {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length { remaining: n },
            BodyKind::Chunked => State::Size { size: 0, digits: 0 },
            BodyKind::CloseDelimited => State::Close,
        };
        BodyDecoder {
            state,
            limits,
            received: 0,
            trailers: None,
        }
    }

    /// Whether the body is complete.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The trailer fields after the last chunk of a chunked body, once
    /// [`decode`](BodyDecoder::decode) returned [`DecodeStep::Done`]; `None`
    /// if there were none (or the body is not chunked).
    // The session does not hand trailers to users yet; the tests read them.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Decodes from the front of `input`.
    ///
    /// Returns [`DecodeStep::Data`] with the next body bytes (split off
    /// `input` without copying), [`DecodeStep::NeedMore`] when `input` is
    /// used up, or [`DecodeStep::Done`] at the end of the body (and on every
    /// call after it), leaving the bytes after the body in `input`. Framing
    /// bytes (chunk headers, CR LF, trailers) are consumed and not returned.
    ///
    /// # Errors
    ///
    /// * [`is_parse`](Error::is_parse) and [`is_body`](Error::is_body): a
    ///   chunk size that is empty, not hex (`0x10`, `+5`, `-1`) or overflows
    ///   a u64, a control byte in a chunk extension, chunk data not followed
    ///   by CR LF, a bare LF or CR, malformed trailers.
    /// * [`is_limit`](Error::is_limit) and [`is_body`](Error::is_body): a
    ///   chunk extension longer than `max_chunk_ext_len`, trailers over
    ///   `max_trailer_size` or `max_trailers`, a body over `max_body_size`.
    pub(crate) fn decode(&mut self, input: &mut BytesMut) -> Result<DecodeStep, Error> {
        let result = self.step(input);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// Tells the decoder that the peer closed the connection, after
    /// [`decode`](BodyDecoder::decode) returned [`DecodeStep::NeedMore`].
    ///
    /// For a close-delimited body this is its end: the decoder is done. For
    /// a complete body it changes nothing.
    ///
    /// # Errors
    ///
    /// An [`is_body`](Error::is_body) error ("connection closed before the
    /// body was complete") if a `Content-Length` or chunked body is not
    /// complete.
    pub(crate) fn eof(&mut self) -> Result<(), Error> {
        let missing = match self.state {
            State::Done => return Ok(()),
            State::Close => {
                self.state = State::Done;
                return Ok(());
            }
            State::Length { remaining } => format!(" ({remaining} bytes missing)"),
            _ => String::new(),
        };
        self.state = State::Failed;
        Err(Error::body(format!(
            "connection closed before the body was complete{missing}"
        )))
    }

    fn check_body_size(&self, more: u64) -> Result<(), Error> {
        if let Some(max) = self.limits.max_body_size {
            if self.received.saturating_add(more) > max {
                return Err(Error::limit_body(format!(
                    "body is larger than {max} bytes"
                )));
            }
        }
        Ok(())
    }

    fn step(&mut self, input: &mut BytesMut) -> Result<DecodeStep, Error> {
        loop {
            match &mut self.state {
                State::Done => return Ok(DecodeStep::Done),
                State::Failed => {
                    return Err(Error::parse_body("the body decoder already failed"));
                }
                State::Length { remaining } => {
                    let remaining = *remaining;
                    if self.received == 0 {
                        self.check_body_size(remaining)?;
                    }
                    if input.is_empty() {
                        return Ok(DecodeStep::NeedMore);
                    }
                    let n = remaining.min(input.len() as u64);
                    self.received += n;
                    let left = remaining - n;
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length { remaining: left }
                    };
                    return Ok(DecodeStep::Data(input.split_to(n as usize).freeze()));
                }
                State::Close => {
                    if input.is_empty() {
                        return Ok(DecodeStep::NeedMore);
                    }
                    self.check_body_size(input.len() as u64)?;
                    self.received += input.len() as u64;
                    return Ok(DecodeStep::Data(input.split().freeze()));
                }
                State::Data { remaining } => {
                    if input.is_empty() {
                        return Ok(DecodeStep::NeedMore);
                    }
                    let n = (*remaining).min(input.len() as u64);
                    *remaining -= n;
                    if *remaining == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok(DecodeStep::Data(input.split_to(n as usize).freeze()));
                }
                _ => {
                    let Some(&b) = input.first() else {
                        return Ok(DecodeStep::NeedMore);
                    };
                    input.advance(1);
                    self.framing_byte(b)?;
                }
            }
        }
    }

    /// Advances the chunked framing states by one byte.
    fn framing_byte(&mut self, b: u8) -> Result<(), Error> {
        let max_ext = self.limits.max_chunk_ext_len;
        let ext_limit =
            || Error::limit_body(format!("chunk extension is longer than {max_ext} bytes"));
        self.state = match std::mem::replace(&mut self.state, State::Failed) {
            State::Size { size, digits } => match b {
                _ if b.is_ascii_hexdigit() => {
                    if digits >= MAX_SIZE_DIGITS {
                        return Err(Error::parse_body("chunk size has too many digits"));
                    }
                    if size > u64::MAX >> 4 {
                        return Err(Error::parse_body("chunk size overflows 64 bits"));
                    }
                    let digit = (b as char).to_digit(16).unwrap_or(0);
                    State::Size {
                        size: size << 4 | u64::from(digit),
                        digits: digits + 1,
                    }
                }
                _ if digits == 0 && b == b'\r' => {
                    return Err(Error::parse_body("empty chunk size"));
                }
                _ if digits == 0 => {
                    return Err(Error::parse_body("chunk size line is not hex"));
                }
                b' ' | b'\t' => State::SizeWs { size, len: 1 },
                b';' => State::Ext { size, len: 0 },
                b'\r' => State::SizeLf { size },
                b'\n' => return Err(Error::parse_body("bare LF after chunk size")),
                _ => return Err(Error::parse_body("chunk size line is not hex")),
            },
            State::SizeWs { size, len } => match b {
                b' ' | b'\t' if len < max_ext => State::SizeWs { size, len: len + 1 },
                b' ' | b'\t' => return Err(ext_limit()),
                b';' => State::Ext { size, len },
                b'\r' => State::SizeLf { size },
                _ => return Err(Error::parse_body("chunk size line is not hex")),
            },
            State::Ext { size, len } => match b {
                b'\r' => State::SizeLf { size },
                b'\n' => return Err(Error::parse_body("bare LF in chunk extension")),
                _ if (b < 0x20 && b != b'\t') || b == 0x7f => {
                    return Err(Error::parse_body("control byte in chunk extension"));
                }
                _ if len >= max_ext => return Err(ext_limit()),
                _ => State::Ext { size, len: len + 1 },
            },
            State::SizeLf { size } => {
                if b != b'\n' {
                    return Err(Error::parse_body(
                        "CR not followed by LF in chunk size line",
                    ));
                }
                if size == 0 {
                    State::Trailers { buf: Vec::new() }
                } else {
                    self.check_body_size(size)?;
                    self.received += size;
                    State::Data { remaining: size }
                }
            }
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size { size: 0, digits: 0 },
            State::DataCr | State::DataLf => {
                return Err(Error::parse_body("missing CRLF after chunk data"));
            }
            State::Trailers { mut buf } => {
                if b == b'\n' && buf.last() != Some(&b'\r') {
                    return Err(Error::parse_body("bare LF in trailer section"));
                }
                buf.push(b);
                if buf == b"\r\n" {
                    State::Done
                } else if buf.ends_with(b"\r\n\r\n") {
                    self.trailers = Some(self.parse_trailers(&buf)?);
                    State::Done
                } else if buf.len() >= self.limits.max_trailer_size {
                    return Err(Error::limit_body(format!(
                        "trailer section is larger than {} bytes",
                        self.limits.max_trailer_size
                    )));
                } else {
                    State::Trailers { buf }
                }
            }
            state @ (State::Length { .. }
            | State::Close
            | State::Data { .. }
            | State::Done
            | State::Failed) => state,
        };
        Ok(())
    }

    fn parse_trailers(&self, buf: &[u8]) -> Result<HeaderMap, Error> {
        let rules = BlockRules {
            what: "trailer section",
            body: true,
            fields_from: 0,
            max_line_len: self.limits.max_line_len,
            max_lines: self.limits.max_trailers,
        };
        let block = scan_block(buf, &rules)?
            .filter(|block| block.len == buf.len())
            .ok_or_else(|| Error::parse_body("malformed trailer section"))?;
        let mut fields = vec![httparse::EMPTY_HEADER; block.lines];
        match httparse::parse_headers(buf, &mut fields) {
            Ok(httparse::Status::Complete((n, _))) if n == buf.len() => {}
            Ok(_) => return Err(Error::parse_body("malformed trailer section")),
            Err(err) => {
                return Err(Error::parse_body("invalid trailer field").with_source(err));
            }
        }
        let mut trailers = HeaderMap::with_capacity(block.lines);
        for field in fields.iter().filter(|f| !f.name.is_empty()) {
            let name = HeaderName::from_bytes(field.name.as_bytes())
                .map_err(|err| Error::parse_body("invalid trailer field name").with_source(err))?;
            let value = HeaderValue::from_bytes(field.value)
                .map_err(|err| Error::parse_body("invalid trailer field value").with_source(err))?;
            trailers.append(name, value);
        }
        Ok(trailers)
    }
}
