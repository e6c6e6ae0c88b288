//! The line scanner shared by the response head and the trailer section.
//!
//! httparse is lenient where we want to be strict (it accepts bare LF line
//! endings) and learns about limits only after the whole block is buffered.
//! This scanner runs first, over the bytes buffered so far: it finds where the
//! block ends (the first empty line), counts its lines, and refuses bare LF,
//! bare CR, NUL bytes, obs-fold and overlong lines as soon as they are seen,
//! so that a peer cannot make us buffer up to the size limit before being
//! refused for something visible in its first bytes.

use crate::Error;

/// The limits and wording for one kind of block.
pub(super) struct BlockRules {
    /// The name of the block in messages ("response head", "trailer section").
    pub(super) what: &'static str,
    /// Whether errors concern the body (trailers) or the head.
    pub(super) body: bool,
    /// Lines before this index are not header fields (1 for a head, whose
    /// first line is the status line; 0 for trailers).
    pub(super) fields_from: usize,
    /// Most bytes in one line, CR LF excluded.
    pub(super) max_line_len: usize,
    /// Most non-empty lines (status line included).
    pub(super) max_lines: usize,
}

impl BlockRules {
    pub(super) fn parse_error(&self, message: String) -> Error {
        if self.body {
            Error::parse_body(message)
        } else {
            Error::parse(message)
        }
    }

    pub(super) fn limit_error(&self, message: String) -> Error {
        if self.body {
            Error::limit_body(message)
        } else {
            Error::limit(message)
        }
    }
}

/// A complete block: its length (final empty line included) and how many
/// non-empty lines it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Block {
    pub(super) len: usize,
    pub(super) lines: usize,
}

/// Scans `buf` for a complete block of CR LF terminated lines ending in an
/// empty line.
///
/// Returns `Ok(None)` if the block is not complete yet (and nothing seen so
/// far is wrong), `Ok(Some(block))` when it is, and an error on a bare LF,
/// a bare CR, a NUL byte, obs-fold, a line longer than `max_line_len` or more
/// than `max_lines` lines.
pub(super) fn scan_block(buf: &[u8], rules: &BlockRules) -> Result<Option<Block>, Error> {
    let mut line_start = 0;
    let mut lines = 0;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'\n' => {
                if i == 0 || buf[i - 1] != b'\r' {
                    return Err(rules.parse_error(format!(
                        "bare LF in {} (lines must end in CR LF)",
                        rules.what
                    )));
                }
                let len = i - 1 - line_start;
                if len == 0 {
                    return Ok(Some(Block { len: i + 1, lines }));
                }
                check_line_len(len, rules)?;
                lines += 1;
                if lines > rules.max_lines {
                    return Err(rules.limit_error(format!(
                        "{} has more than {} header fields",
                        rules.what,
                        rules.max_lines - rules.fields_from
                    )));
                }
                line_start = i + 1;
            }
            b'\r' if buf.get(i + 1).is_some_and(|&next| next != b'\n') => {
                return Err(rules.parse_error(format!(
                    "bare CR in {} (CR must be followed by LF)",
                    rules.what
                )));
            }
            0 => {
                return Err(rules.parse_error(format!("NUL byte in {}", rules.what)));
            }
            b' ' | b'\t' if i == line_start && lines >= rules.fields_from => {
                return Err(rules.parse_error(format!(
                    "obs-fold (a line starting with whitespace) in {}",
                    rules.what
                )));
            }
            _ => {}
        }
    }
    // The last line is incomplete; it may end in the CR of its CR LF.
    let partial = buf.len() - line_start;
    check_line_len(partial.saturating_sub(1), rules)?;
    Ok(None)
}

fn check_line_len(len: usize, rules: &BlockRules) -> Result<(), Error> {
    if len > rules.max_line_len {
        return Err(rules.limit_error(format!(
            "a line in the {} is longer than {} bytes",
            rules.what, rules.max_line_len
        )));
    }
    Ok(())
}
