//! Response body decompression: `Content-Encoding: gzip` and `deflate`.
//!
//! # Design
//!
//! A [`Decompressor`] is a push decoder: the session hands it each piece of
//! the body as the codec yields it ([`Decompressor::decode`]) and gets back
//! whatever decompressed bytes that piece produced; [`Decompressor::finish`]
//! is called when the body ended and says whether the compressed stream was
//! complete. Nothing is buffered between calls except the inflater's window
//! and a few header bytes, so any split of the input works.
//!
//! * **gzip** (RFC 1952) is parsed here, header and trailer, around a raw
//!   inflater: the header's optional fields (extra, name, comment, header
//!   CRC) are skipped byte by byte without buffering, the trailer's CRC-32
//!   and length are checked, and a new member may follow a finished one
//!   (concatenated members decode into one body). Bytes after a member that
//!   do not start another member are an error.
//! * **deflate** means the zlib format (RFC 9110 section 8.4.1.2), but some
//!   servers send raw deflate; the first two bytes decide, the way browsers
//!   do: a valid zlib header (method 8, window at most 32 KiB, check bits a
//!   multiple of 31) selects zlib, anything else raw deflate.
//! * **Bounded output.** With a `max_size`, the output buffer of one call
//!   never grows past what the limit still allows plus one byte: the inflater
//!   writes into at most that much room, so a gzip bomb is stopped as soon
//!   as it exceeds the limit, having allocated no more than the limit (plus
//!   one 32 KiB step). Without a limit, one call's output is bounded by the
//!   input's size times deflate's maximum ratio (about 1032).
//! * **Errors.** Corrupt data, a bad header, a CRC or length mismatch and
//!   trailing garbage are [`is_decode`](crate::Error::is_decode) (and
//!   [`is_body`](crate::Error::is_body)); a stream that ends early is found by
//!   [`finish`](Decompressor::finish) and is the same; the size limit is
//!   [`is_limit`](crate::Error::is_limit) and [`is_body`](crate::Error::is_body).
//!   After an error every later call fails too.
//! * **Empty bodies.** A body of zero bytes decodes to zero bytes whatever its
//!   `Content-Encoding` (servers answer `HEAD`-like requests and some empty
//!   `200`s that way); one compressed byte or more must form a whole stream.
//!
//! asyncio has no counterpart; aiohttp does the same in its
//! `ZLibDecompressor` when `auto_decompress=True`.

use std::fmt;

use bytes::Bytes;
use flate2::{Crc, Decompress, FlushDecompress, Status};
use http::HeaderValue;

use crate::Error;

/// The `Accept-Encoding` value for the codings this module decodes.
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate";

/// How much output room the inflater gets per step.
const STEP: usize = 32 * 1024;

/// The smallest first step: small inputs (a byte at a time) get small buffers.
const MIN_STEP: usize = 512;

/// A body's `Content-Encoding`, as far as this crate decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentEncoding {
    /// `gzip` or `x-gzip`.
    Gzip,
    /// `deflate`: zlib-wrapped, or raw deflate from some servers.
    Deflate,
    /// `identity`, or no coding listed.
    Identity,
}

impl ContentEncoding {
    /// Reads a `Content-Encoding` header value.
    ///
    /// Case-insensitive, surrounding whitespace ignored; `x-gzip` is gzip. An
    /// empty value is identity. Returns `None` for a coding this crate does
    /// not decode (`br`, `zstd`, ...), for a value that is not visible ASCII,
    /// and for more than one coding (`gzip, gzip`): such bodies are handed
    /// over as they are. The caller merges repeated header fields first (or
    /// gives up on them), since they are a list too.
    pub(crate) fn from_header(value: &HeaderValue) -> Option<ContentEncoding> {
        let text = value.to_str().ok()?;
        let mut codings = text.split(',').map(str::trim).filter(|c| !c.is_empty());
        let Some(coding) = codings.next() else {
            return Some(ContentEncoding::Identity);
        };
        if codings.next().is_some() {
            return None;
        }
        let is = |name: &str| coding.eq_ignore_ascii_case(name);
        if is("gzip") || is("x-gzip") {
            Some(ContentEncoding::Gzip)
        } else if is("deflate") {
            Some(ContentEncoding::Deflate)
        } else if is("identity") {
            Some(ContentEncoding::Identity)
        } else {
            None
        }
    }
}

/// A streaming decoder for one response body.
pub(crate) struct Decompressor {
    stage: Stage,
    /// The limit on the decoded size, in bytes.
    max_size: Option<u64>,
    /// Decoded bytes handed out so far.
    produced: u64,
    /// Whether any input byte has arrived.
    seen_input: bool,
    /// The largest output buffer capacity one call reached (tests check the
    /// bomb bound with it).
    #[cfg(test)]
    peak_capacity: usize,
}

enum Stage {
    /// No coding: bytes pass through (the size limit still applies).
    Identity,
    /// Deflate before its first two bytes are known; holds the first one.
    DeflateSniff(Option<u8>),
    /// Inside a zlib or raw deflate stream.
    Deflate(Decompress),
    /// The deflate stream ended; nothing may follow.
    DeflateDone,
    /// Inside a gzip member's header.
    GzipHeader(GzipHeader),
    /// Inside a gzip member's compressed data.
    GzipBody(Decompress, Crc),
    /// Inside a gzip member's 8-byte trailer.
    GzipTrailer(Crc, [u8; 8], usize),
    /// A gzip member ended; only another member may follow.
    GzipMemberEnd,
    /// An error was returned; every later call fails.
    Failed,
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Identity => "identity",
            Stage::DeflateSniff(_) => "deflate (start)",
            Stage::Deflate(_) => "deflate",
            Stage::DeflateDone => "deflate (done)",
            Stage::GzipHeader(_) => "gzip (header)",
            Stage::GzipBody(..) => "gzip (data)",
            Stage::GzipTrailer(..) => "gzip (trailer)",
            Stage::GzipMemberEnd => "gzip (member end)",
            Stage::Failed => "failed",
        }
    }
}

impl fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decompressor")
            .field("stage", &self.stage.name())
            .field("max_size", &self.max_size)
            .field("produced", &self.produced)
            .finish()
    }
}

impl Decompressor {
    /// A decoder for `encoding`, failing once the decoded size would exceed
    /// `max_size` bytes.
    pub(crate) fn new(encoding: ContentEncoding, max_size: Option<u64>) -> Decompressor {
        let stage = match encoding {
            ContentEncoding::Identity => Stage::Identity,
            ContentEncoding::Deflate => Stage::DeflateSniff(None),
            ContentEncoding::Gzip => Stage::GzipHeader(GzipHeader::new()),
        };
        Decompressor {
            stage,
            max_size,
            produced: 0,
            seen_input: false,
            #[cfg(test)]
            peak_capacity: 0,
        }
    }

    /// Decodes the next piece of the body, returning what it produced (maybe
    /// nothing).
    ///
    /// # Errors
    ///
    /// [`is_decode`](crate::Error::is_decode) for corrupt input,
    /// [`is_limit`](crate::Error::is_limit) once the output would pass
    /// `max_size`; both are also [`is_body`](crate::Error::is_body).
    pub(crate) fn decode(&mut self, input: Bytes) -> Result<Bytes, Error> {
        if matches!(self.stage, Stage::Failed) {
            return Err(failed_before());
        }
        if !input.is_empty() {
            self.seen_input = true;
        }
        let room = self
            .max_size
            .map(|max| usize::try_from(max.saturating_sub(self.produced)).unwrap_or(usize::MAX));
        if let Stage::Identity = self.stage {
            if room.is_some_and(|room| input.len() > room) {
                self.stage = Stage::Failed;
                return Err(self.limit_error());
            }
            self.produced += input.len() as u64;
            return Ok(input);
        }
        let mut out = Output {
            buf: Vec::new(),
            room,
            first_step: input.len().saturating_mul(4).clamp(MIN_STEP, STEP),
        };
        let result = self.run(&input, &mut out);
        #[cfg(test)]
        {
            self.peak_capacity = self.peak_capacity.max(out.buf.capacity());
        }
        match result {
            Ok(()) => {
                self.produced += out.buf.len() as u64;
                Ok(out.into_bytes())
            }
            Err(err) => {
                self.stage = Stage::Failed;
                Err(match err {
                    Failure::Limit => self.limit_error(),
                    Failure::Decode(err) => err,
                })
            }
        }
    }

    /// Says the body ended: succeeds if the compressed stream was complete
    /// (or the body empty), returning any last output (none, since
    /// [`decode`](Decompressor::decode) hands out everything it can).
    ///
    /// # Errors
    ///
    /// An [`is_decode`](crate::Error::is_decode) and
    /// [`is_body`](crate::Error::is_body) error if the stream was cut short,
    /// or if an earlier call failed.
    pub(crate) fn finish(&mut self) -> Result<Bytes, Error> {
        let complete = match &self.stage {
            Stage::Failed => return Err(failed_before()),
            Stage::Identity | Stage::DeflateDone | Stage::GzipMemberEnd => true,
            Stage::DeflateSniff(held) => held.is_none(),
            Stage::GzipHeader(_) => !self.seen_input,
            Stage::Deflate(_) | Stage::GzipBody(..) | Stage::GzipTrailer(..) => false,
        };
        if complete {
            Ok(Bytes::new())
        } else {
            self.stage = Stage::Failed;
            Err(Error::decode("compressed body ended early"))
        }
    }

    fn limit_error(&self) -> Error {
        let max = self.max_size.unwrap_or(u64::MAX);
        Error::limit_body(format!("decompressed body is larger than {max} bytes"))
    }

    /// Runs the stages over `input`, pushing output into `out`.
    fn run(&mut self, input: &[u8], out: &mut Output) -> Result<(), Failure> {
        let mut pos = 0;
        loop {
            match &mut self.stage {
                Stage::Identity | Stage::Failed => unreachable!("handled by decode"),
                Stage::DeflateSniff(held) => {
                    let (b0, b1) = match *held {
                        Some(b0) => (Some(b0), input.get(pos).copied()),
                        None => (input.get(pos).copied(), input.get(pos + 1).copied()),
                    };
                    let (Some(b0), Some(b1)) = (b0, b1) else {
                        if held.is_none() && b0.is_some() {
                            *held = b0;
                            pos += 1;
                        }
                        debug_assert_eq!(pos, input.len());
                        return Ok(());
                    };
                    let zlib = is_zlib_header(b0, b1);
                    let held = held.take();
                    let mut inflater = Decompress::new(zlib);
                    if let Some(byte) = held {
                        // No deflate stream is shorter than two bytes, so the
                        // held byte is consumed and does not end the stream.
                        let (used, ended) = inflate(&mut inflater, &[byte], out, None)?;
                        if used != 1 || ended {
                            return Err(decode_error("deflate stream stalled"));
                        }
                    }
                    self.stage = Stage::Deflate(inflater);
                }
                Stage::Deflate(inflater) => {
                    let (used, ended) = inflate(inflater, &input[pos..], out, None)?;
                    pos += used;
                    if !ended {
                        return Ok(());
                    }
                    self.stage = Stage::DeflateDone;
                }
                Stage::DeflateDone => {
                    if pos < input.len() {
                        return Err(decode_error("data after the end of the deflate stream"));
                    }
                    return Ok(());
                }
                Stage::GzipHeader(header) => {
                    while pos < input.len() {
                        let byte = input[pos];
                        pos += 1;
                        if header.push(byte)? {
                            self.stage = Stage::GzipBody(Decompress::new(false), Crc::new());
                            break;
                        }
                    }
                    if pos == input.len() && matches!(self.stage, Stage::GzipHeader(_)) {
                        return Ok(());
                    }
                }
                Stage::GzipBody(inflater, crc) => {
                    let (used, ended) = inflate(inflater, &input[pos..], out, Some(crc))?;
                    pos += used;
                    if !ended {
                        return Ok(());
                    }
                    let crc = std::mem::take(crc);
                    self.stage = Stage::GzipTrailer(crc, [0; 8], 0);
                }
                Stage::GzipTrailer(crc, trailer, got) => {
                    let take = (8 - *got).min(input.len() - pos);
                    trailer[*got..*got + take].copy_from_slice(&input[pos..pos + take]);
                    *got += take;
                    pos += take;
                    if *got < 8 {
                        return Ok(());
                    }
                    let want_crc =
                        u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
                    let want_len =
                        u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
                    if crc.sum() != want_crc {
                        return Err(decode_error("gzip CRC-32 mismatch"));
                    }
                    if crc.amount() != want_len {
                        return Err(decode_error("gzip length mismatch"));
                    }
                    self.stage = Stage::GzipMemberEnd;
                }
                Stage::GzipMemberEnd => {
                    if pos == input.len() {
                        return Ok(());
                    }
                    // Another member follows (its header checks the magic).
                    self.stage = Stage::GzipHeader(GzipHeader::new());
                }
            }
        }
    }
}

/// Why a run stopped early: the size limit (the decoder makes the message,
/// it knows the limit) or a decoding error.
enum Failure {
    Limit,
    Decode(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        Failure::Decode(err)
    }
}

fn decode_error(message: &'static str) -> Failure {
    Failure::Decode(Error::decode(message))
}

fn failed_before() -> Error {
    Error::decode("the body's decoder failed earlier")
}

/// Whether two bytes are a zlib header: compression method 8 (deflate), a
/// window of at most 32 KiB, and check bits making `CMF*256 + FLG` a
/// multiple of 31 (RFC 1950). No real raw deflate stream starts like this:
/// it would need a non-final stored block with nonzero padding bits.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// One call's output, growing in steps that never pass the room left under
/// the size limit by more than one byte.
struct Output {
    buf: Vec<u8>,
    /// Bytes this call may still produce without passing the limit.
    room: Option<usize>,
    /// The size of the first step, scaled to the input.
    first_step: usize,
}

impl Output {
    /// Extends the buffer with a zeroed step for the inflater to write into
    /// and returns its start; [`Output::commit`] trims the unwritten part.
    fn reserve_step(&mut self) -> usize {
        let len = self.buf.len();
        // One byte past the room is enough to see that the limit is passed.
        let ceiling = self.room.map_or(usize::MAX, |room| room.saturating_add(1));
        let step = if len == 0 { self.first_step } else { STEP };
        let new_len = len.saturating_add(step).min(ceiling);
        debug_assert!(new_len > len, "commit fails before the ceiling is reached");
        if self.buf.capacity() < new_len {
            // Amortized doubling, but never past the ceiling.
            let target = new_len
                .max(self.buf.capacity().saturating_mul(2))
                .min(ceiling);
            self.buf.reserve_exact(target - len);
        }
        self.buf.resize(new_len, 0);
        len
    }

    /// The output, without holding on to much more memory than it needs.
    fn into_bytes(mut self) -> Bytes {
        if self.buf.is_empty() {
            return Bytes::new();
        }
        // Copying costs at most what is kept; a mostly empty step is not kept.
        if self.buf.capacity() - self.buf.len() > self.buf.len() {
            self.buf.shrink_to_fit();
        }
        Bytes::from(self.buf)
    }

    /// Keeps `written` bytes of the step that started at `start`.
    fn commit(&mut self, start: usize, written: usize) -> Result<(), Failure> {
        self.buf.truncate(start + written);
        match self.room {
            Some(room) if self.buf.len() > room => Err(Failure::Limit),
            _ => Ok(()),
        }
    }
}

/// Inflates `input` into `out` until the input is used up (and the pending
/// output drained) or the stream ends. Returns how many input bytes were
/// used and whether the stream ended.
fn inflate(
    inflater: &mut Decompress,
    input: &[u8],
    out: &mut Output,
    mut crc: Option<&mut Crc>,
) -> Result<(usize, bool), Failure> {
    let mut pos = 0;
    loop {
        let start = out.reserve_step();
        let room = out.buf.len() - start;
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let status =
            inflater.decompress(&input[pos..], &mut out.buf[start..], FlushDecompress::None);
        let used = (inflater.total_in() - in_before) as usize;
        let written = (inflater.total_out() - out_before) as usize;
        if let Some(crc) = crc.as_deref_mut() {
            crc.update(&out.buf[start..start + written]);
        }
        out.commit(start, written)?;
        pos += used;
        let status = status.map_err(Error::decode)?;
        if status == Status::StreamEnd {
            return Ok((pos, true));
        }
        let stalled = used == 0 && written == 0;
        if stalled && pos < input.len() {
            // Room and input, yet no progress: never drop input silently.
            return Err(decode_error("deflate stream stalled"));
        }
        if stalled || (pos == input.len() && written < room) {
            return Ok((pos, false));
        }
    }
}

/// The bytes of a gzip member header, parsed one at a time (RFC 1952
/// section 2.3): the 10 fixed bytes, then the optional fields the flags
/// announce, which are skipped, not kept.
struct GzipHeader {
    /// Which part is being read.
    field: Field,
    /// Bytes read of the current part (fixed bytes, length or CRC bytes).
    got: usize,
    flags: u8,
    /// Length of the extra field, then how much of it is left.
    extra_len: usize,
    /// CRC-32 of the header so far, for the optional header CRC.
    crc: Crc,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Fixed,
    ExtraLen,
    Extra,
    Name,
    Comment,
    HeaderCrc,
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

impl GzipHeader {
    fn new() -> GzipHeader {
        GzipHeader {
            field: Field::Fixed,
            got: 0,
            flags: 0,
            extra_len: 0,
            crc: Crc::new(),
        }
    }

    /// The first optional field after `after` that the flags announce, or
    /// `None` when the header is complete.
    fn next_field(&self, after: Field) -> Option<Field> {
        let order = [
            (Field::ExtraLen, FEXTRA),
            (Field::Name, FNAME),
            (Field::Comment, FCOMMENT),
            (Field::HeaderCrc, FHCRC),
        ];
        let rank = |f: Field| match f {
            Field::Fixed => 0,
            Field::ExtraLen | Field::Extra => 1,
            Field::Name => 2,
            Field::Comment => 3,
            Field::HeaderCrc => 4,
        };
        order
            .iter()
            .filter(|(field, _)| rank(*field) > rank(after))
            .find(|(_, flag)| self.flags & flag != 0)
            .map(|(field, _)| *field)
    }

    /// Moves past the finished `field`; returns whether the header is done.
    fn advance(&mut self, field: Field) -> bool {
        self.got = 0;
        match self.next_field(field) {
            Some(next) => {
                self.field = next;
                false
            }
            None => true,
        }
    }

    /// Takes one header byte; returns whether the header is complete.
    fn push(&mut self, byte: u8) -> Result<bool, Error> {
        if self.field != Field::HeaderCrc {
            self.crc.update(&[byte]);
        }
        match self.field {
            Field::Fixed => {
                match self.got {
                    0 if byte != 0x1f => {
                        return Err(Error::decode("not a gzip stream (bad magic)"))
                    }
                    1 if byte != 0x8b => {
                        return Err(Error::decode("not a gzip stream (bad magic)"))
                    }
                    2 if byte != 8 => {
                        return Err(Error::decode("gzip compression method is not deflate"))
                    }
                    3 if byte & FRESERVED != 0 => {
                        return Err(Error::decode("gzip header has reserved flags set"))
                    }
                    3 => self.flags = byte,
                    _ => {}
                }
                self.got += 1;
                if self.got == 10 {
                    return Ok(self.advance(Field::Fixed));
                }
            }
            Field::ExtraLen => {
                self.extra_len |= usize::from(byte) << (8 * self.got);
                self.got += 1;
                if self.got == 2 {
                    self.got = 0;
                    if self.extra_len == 0 {
                        return Ok(self.advance(Field::Extra));
                    }
                    self.field = Field::Extra;
                }
            }
            Field::Extra => {
                self.extra_len -= 1;
                if self.extra_len == 0 {
                    return Ok(self.advance(Field::Extra));
                }
            }
            Field::Name | Field::Comment => {
                if byte == 0 {
                    return Ok(self.advance(self.field));
                }
            }
            Field::HeaderCrc => {
                let want = self.crc.sum() as u16;
                let shift = 8 * self.got;
                if u16::from(byte) != (want >> shift) & 0xff {
                    return Err(Error::decode("gzip header CRC mismatch"));
                }
                self.got += 1;
                if self.got == 2 {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;
    use std::time::Instant;

    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::{Compress, Compression, FlushCompress};

    /// A tiny xorshift PRNG, so that the tests need no new dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Data that compresses somewhat: random runs of random bytes and
    /// repeats of what came before, so that the streams use both literals
    /// and back-references.
    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed | 1);
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let run = 1 + rng.below(64);
            if out.len() > 100 && rng.below(2) == 0 {
                let from = rng.below(out.len() - 64);
                for i in 0..run {
                    out.push(out[from + i % 64]);
                }
            } else {
                for _ in 0..run {
                    out.push(rng.next() as u8);
                }
            }
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Feeds `input` in pieces whose sizes `split` picks, then finishes.
    fn feed(
        encoding: ContentEncoding,
        max_size: Option<u64>,
        input: &[u8],
        mut split: impl FnMut() -> usize,
    ) -> Result<Vec<u8>, Error> {
        let mut d = Decompressor::new(encoding, max_size);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let n = split().clamp(1, input.len() - pos);
            out.extend_from_slice(&d.decode(Bytes::copy_from_slice(&input[pos..pos + n]))?);
            pos += n;
        }
        out.extend_from_slice(&d.finish()?);
        Ok(out)
    }

    fn whole(encoding: ContentEncoding, input: &[u8]) -> Result<Vec<u8>, Error> {
        feed(encoding, None, input, || usize::MAX)
    }

    fn bytewise(encoding: ContentEncoding, input: &[u8]) -> Result<Vec<u8>, Error> {
        feed(encoding, None, input, || 1)
    }

    fn header(value: &str) -> Option<ContentEncoding> {
        ContentEncoding::from_header(&HeaderValue::from_str(value).unwrap())
    }

    #[test]
    fn content_encoding_from_header() {
        use ContentEncoding::*;
        assert_eq!(header("gzip"), Some(Gzip));
        assert_eq!(header("GZip"), Some(Gzip));
        assert_eq!(header("x-gzip"), Some(Gzip));
        assert_eq!(header(" X-GZIP "), Some(Gzip));
        assert_eq!(header("deflate"), Some(Deflate));
        assert_eq!(header("DEFLATE"), Some(Deflate));
        assert_eq!(header("identity"), Some(Identity));
        assert_eq!(header(""), Some(Identity));
        assert_eq!(header("gzip,"), Some(Gzip));
        assert_eq!(header("br"), None);
        assert_eq!(header("zstd"), None);
        assert_eq!(header("gzipx"), None);
        assert_eq!(header("gzip, gzip"), None);
        assert_eq!(header("deflate, gzip"), None);
        assert_eq!(header("identity, gzip"), None);
        let opaque = HeaderValue::from_bytes(b"gzip\xff").unwrap();
        assert_eq!(ContentEncoding::from_header(&opaque), None);
        // Everything we advertise, we decode.
        for coding in ACCEPT_ENCODING.split(',') {
            assert!(matches!(header(coding), Some(Gzip | Deflate)), "{coding}");
        }
    }

    #[test]
    fn round_trips_whole_bytewise_and_in_random_pieces() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (i, len) in [1usize, 10, 1000, 70_000].into_iter().enumerate() {
            let plain = data(len, i as u64 + 1);
            let cases = [
                (ContentEncoding::Gzip, gzip(&plain)),
                (ContentEncoding::Deflate, zlib(&plain)),
                (ContentEncoding::Deflate, raw_deflate(&plain, 6)),
                (ContentEncoding::Identity, plain.clone()),
            ];
            for (encoding, input) in &cases {
                assert_eq!(
                    whole(*encoding, input).unwrap(),
                    plain,
                    "{encoding:?} {len}"
                );
                assert_eq!(
                    bytewise(*encoding, input).unwrap(),
                    plain,
                    "{encoding:?} {len}"
                );
                let pieces = feed(*encoding, None, input, || 1 + rng.below(3000)).unwrap();
                assert_eq!(pieces, plain, "{encoding:?} {len}");
            }
        }
    }

    #[test]
    fn highly_compressible_output_spans_many_steps() {
        let plain = vec![b'a'; 5 * STEP + 17];
        for (encoding, input) in [
            (ContentEncoding::Gzip, gzip(&plain)),
            (ContentEncoding::Deflate, zlib(&plain)),
        ] {
            let mut d = Decompressor::new(encoding, None);
            let out = d.decode(Bytes::from(input)).unwrap();
            assert_eq!(out.len(), plain.len());
            assert!(out.iter().all(|&b| b == b'a'));
            assert!(d.finish().unwrap().is_empty());
        }
    }

    #[test]
    fn empty_body_decodes_to_nothing() {
        for encoding in [
            ContentEncoding::Gzip,
            ContentEncoding::Deflate,
            ContentEncoding::Identity,
        ] {
            let mut d = Decompressor::new(encoding, Some(0));
            assert!(d.decode(Bytes::new()).unwrap().is_empty());
            assert!(d.finish().unwrap().is_empty());
        }
        // An encoded empty payload is fine too.
        assert!(whole(ContentEncoding::Gzip, &gzip(b"")).unwrap().is_empty());
        assert!(whole(ContentEncoding::Deflate, &zlib(b""))
            .unwrap()
            .is_empty());
    }

    /// A gzip member of `blocks` MiB of zeros (about 1 KiB compressed per
    /// MiB), built without ever holding the plain data: one MiB of zeros is
    /// compressed once with a sync flush, which ends on a byte boundary and
    /// only refers back to zeros, so repeating it yields a valid stream of any
    /// length; the trailer's CRC is combined from the block's.
    fn zero_bomb(blocks: usize) -> Vec<u8> {
        const MIB: usize = 1 << 20;
        let zeros = vec![0u8; MIB];
        let mut compress = Compress::new(Compression::best(), false);
        let mut block = Vec::with_capacity(64 * 1024);
        compress
            .compress_vec(&zeros, &mut block, FlushCompress::Sync)
            .unwrap();
        assert_eq!(compress.total_in(), MIB as u64);
        let mut block_crc = Crc::new();
        block_crc.update(&zeros);
        let mut crc = Crc::new();
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        for _ in 0..blocks {
            out.extend_from_slice(&block);
            crc.combine(&block_crc);
        }
        // A final, empty fixed-Huffman block: BFINAL=1, BTYPE=01, end of block.
        out.extend_from_slice(&[0x03, 0x00]);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&((blocks * MIB) as u32).to_le_bytes());
        out
    }

    #[test]
    fn zero_bomb_construction_is_a_valid_stream() {
        let bomb = zero_bomb(3);
        let out = bytewise(ContentEncoding::Gzip, &bomb[..]).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(out.len(), 3 << 20);
        assert!(out.iter().all(|&b| b == 0));
    }

    #[test]
    fn gzip_bomb_is_stopped_at_the_limit_with_bounded_memory() {
        const LIMIT: u64 = 10 << 20;
        let started = Instant::now();
        let bomb = zero_bomb(1024); // 1 GiB of zeros
        assert!(bomb.len() < 2 << 20, "compressed size {}", bomb.len());
        for piece in [bomb.len(), 64 * 1024, 1000] {
            let mut d = Decompressor::new(ContentEncoding::Gzip, Some(LIMIT));
            let mut total = 0u64;
            let mut fed = 0;
            let err = loop {
                assert!(fed < bomb.len(), "the whole bomb was decoded");
                let end = (fed + piece).min(bomb.len());
                match d.decode(Bytes::copy_from_slice(&bomb[fed..end])) {
                    Ok(out) => total += out.len() as u64,
                    Err(err) => break err,
                }
                fed = end;
            };
            assert!(err.is_limit() && err.is_body(), "{err:?}");
            assert!(total <= LIMIT);
            // Stopped soon after the limit: about 10 KiB of input for 10 MiB.
            assert!(fed <= 64 * 1024, "fed {fed} bytes before stopping");
            // Never more than the limit plus one byte of output buffer.
            assert!(
                d.peak_capacity as u64 <= LIMIT + 1,
                "peak {}",
                d.peak_capacity
            );
            // The decoder stays failed.
            assert!(d.decode(Bytes::from_static(&[0])).is_err());
            assert!(d.finish().is_err());
        }
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    #[ignore = "long: cargo xtask test --stress"]
    fn whole_gigabyte_bomb_decodes_without_a_limit() {
        let bomb = zero_bomb(1024);
        let mut d = Decompressor::new(ContentEncoding::Gzip, None);
        let mut total = 0u64;
        for piece in bomb.chunks(64 * 1024) {
            let out = d.decode(Bytes::copy_from_slice(piece)).unwrap();
            assert!(out.iter().all(|&b| b == 0));
            total += out.len() as u64;
        }
        d.finish().unwrap();
        assert_eq!(total, 1 << 30);
    }

    #[test]
    fn size_limit_is_exact() {
        let plain = data(10_000, 7);
        for (encoding, input) in [
            (ContentEncoding::Gzip, gzip(&plain)),
            (ContentEncoding::Deflate, raw_deflate(&plain, 9)),
            (ContentEncoding::Identity, plain.clone()),
        ] {
            let at = feed(encoding, Some(10_000), &input, || 100).unwrap();
            assert_eq!(at, plain, "{encoding:?}");
            let err = feed(encoding, Some(9_999), &input, || 100).unwrap_err();
            assert!(
                err.is_limit() && err.is_body() && !err.is_decode(),
                "{err:?}"
            );
            assert!(err.to_string().contains("9999"), "{err}");
        }
    }

    #[test]
    fn truncated_streams_fail_at_finish() {
        let plain = data(3000, 3);
        for (encoding, input) in [
            (ContentEncoding::Gzip, gzip(&plain)),
            (ContentEncoding::Deflate, zlib(&plain)),
            (ContentEncoding::Deflate, raw_deflate(&plain, 6)),
        ] {
            for cut in 1..input.len() {
                let err = whole(encoding, &input[..cut])
                    .expect_err(&format!("{encoding:?} cut at {cut} of {}", input.len()));
                assert!(err.is_decode() && err.is_body(), "{err:?}");
            }
        }
    }

    #[test]
    fn corrupt_streams_are_decode_errors() {
        let plain = data(5000, 5);
        let gz = gzip(&plain);
        let zl = zlib(&plain);
        let mut cases: Vec<(ContentEncoding, Vec<u8>)> = Vec::new();
        // Bad magic, bad method, reserved flags.
        for (at, byte) in [(0, 0x1e), (1, 0x8c), (2, 7), (3, 0x20)] {
            let mut bad = gz.clone();
            bad[at] = byte;
            cases.push((ContentEncoding::Gzip, bad));
        }
        // Plain text sent as gzip.
        cases.push((ContentEncoding::Gzip, b"<html>hello</html>".to_vec()));
        // Data, CRC and length damaged.
        for at in [gz.len() / 2, gz.len() - 8, gz.len() - 1] {
            let mut bad = gz.clone();
            bad[at] ^= 0x55;
            cases.push((ContentEncoding::Gzip, bad));
        }
        // A zlib stream whose data or Adler-32 is damaged.
        for at in [zl.len() / 2, zl.len() - 1] {
            let mut bad = zl.clone();
            bad[at] ^= 0x55;
            cases.push((ContentEncoding::Deflate, bad));
        }
        // A reserved block type in raw deflate.
        cases.push((ContentEncoding::Deflate, vec![0xff, 0xff, 0xff]));
        for (encoding, input) in &cases {
            for result in [whole(*encoding, input), bytewise(*encoding, input)] {
                let err = result.expect_err("corrupt input decoded");
                assert!(
                    err.is_decode() && err.is_body() && !err.is_limit(),
                    "{err:?}"
                );
            }
        }
    }

    #[test]
    fn errors_stick() {
        let mut d = Decompressor::new(ContentEncoding::Gzip, None);
        assert!(d
            .decode(Bytes::from_static(b"nope"))
            .unwrap_err()
            .is_decode());
        let again = d.decode(Bytes::from(gzip(b"fine"))).unwrap_err();
        assert!(again.is_decode());
        assert!(d.finish().unwrap_err().is_decode());
    }

    #[test]
    fn raw_and_zlib_deflate_are_told_apart() {
        let plain = data(20_000, 11);
        for level in 0..=9 {
            let raw = raw_deflate(&plain, level);
            assert!(
                !is_zlib_header(raw[0], raw[1]),
                "level {level}: {:x?}",
                &raw[..2]
            );
            assert_eq!(bytewise(ContentEncoding::Deflate, &raw).unwrap(), plain);
            let mut e = ZlibEncoder::new(Vec::new(), Compression::new(level));
            e.write_all(&plain).unwrap();
            let zl = e.finish().unwrap();
            assert!(
                is_zlib_header(zl[0], zl[1]),
                "level {level}: {:x?}",
                &zl[..2]
            );
            assert_eq!(bytewise(ContentEncoding::Deflate, &zl).unwrap(), plain);
        }
        // Data after the end of the stream is refused.
        let mut extra = zlib(b"abc");
        extra.push(0);
        assert!(whole(ContentEncoding::Deflate, &extra)
            .unwrap_err()
            .is_decode());
    }

    #[test]
    fn concatenated_gzip_members_decode_fully() {
        let (a, b) = (data(4000, 21), data(9000, 22));
        let mut input = gzip(&a);
        input.extend_from_slice(&gzip(b""));
        input.extend_from_slice(&gzip(&b));
        let mut plain = a.clone();
        plain.extend_from_slice(&b);
        assert_eq!(whole(ContentEncoding::Gzip, &input).unwrap(), plain);
        assert_eq!(bytewise(ContentEncoding::Gzip, &input).unwrap(), plain);
        // A second member cut short is truncation.
        let cut = &input[..input.len() - 3];
        assert!(whole(ContentEncoding::Gzip, cut).unwrap_err().is_decode());
        // Trailing garbage (even zero padding) after a member is refused.
        for tail in [&b"\0\0\0\0"[..], b"junk"] {
            let mut bad = gzip(&a);
            bad.extend_from_slice(tail);
            assert!(whole(ContentEncoding::Gzip, &bad).unwrap_err().is_decode());
        }
    }

    #[test]
    fn gzip_optional_header_fields_are_skipped_and_checked() {
        let plain = data(2000, 31);
        // Extra field, file name and comment, as flate2 writes them.
        let mut e = flate2::GzBuilder::new()
            .extra(vec![1, 2, 3, 4, 5])
            .filename("file.txt")
            .comment("a comment")
            .write(Vec::new(), Compression::default());
        e.write_all(&plain).unwrap();
        let input = e.finish().unwrap();
        assert_eq!(input[3], FEXTRA | FNAME | FCOMMENT);
        assert_eq!(bytewise(ContentEncoding::Gzip, &input).unwrap(), plain);

        // Every flag, with a header CRC, built by hand.
        let mut head = vec![
            0x1f,
            0x8b,
            8,
            FHCRC | FEXTRA | FNAME | FCOMMENT,
            0,
            0,
            0,
            0,
            0,
            3,
        ];
        head.extend_from_slice(&[0, 0]); // an empty extra field
        head.extend_from_slice(b"name\0comment\0");
        let mut crc = Crc::new();
        crc.update(&head);
        let good = (crc.sum() as u16).to_le_bytes();
        let mut crc = Crc::new();
        crc.update(&plain);
        let mut body = raw_deflate(&plain, 6);
        body.extend_from_slice(&crc.sum().to_le_bytes());
        body.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        let build = |hcrc: [u8; 2]| {
            let mut v = head.clone();
            v.extend_from_slice(&hcrc);
            v.extend_from_slice(&body);
            v
        };
        assert_eq!(
            bytewise(ContentEncoding::Gzip, &build(good)).unwrap(),
            plain
        );
        assert_eq!(whole(ContentEncoding::Gzip, &build(good)).unwrap(), plain);
        let bad = [good[0] ^ 1, good[1]];
        assert!(whole(ContentEncoding::Gzip, &build(bad))
            .unwrap_err()
            .is_decode());
        // A header cut inside its optional fields is truncation.
        assert!(whole(ContentEncoding::Gzip, &head[..15])
            .unwrap_err()
            .is_decode());
    }

    #[test]
    fn small_pieces_get_small_buffers() {
        let plain = data(100_000, 41);
        let input = gzip(&plain);
        let mut d = Decompressor::new(ContentEncoding::Gzip, None);
        let mut out = Vec::new();
        for piece in input.chunks(7) {
            let bytes = d.decode(Bytes::copy_from_slice(piece)).unwrap();
            out.extend_from_slice(&bytes);
        }
        d.finish().unwrap();
        assert_eq!(out, plain);
        // Steps for 7-byte pieces start small.
        assert!(d.peak_capacity <= 2 * STEP, "peak {}", d.peak_capacity);
    }
}
