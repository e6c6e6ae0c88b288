//! The redirect ([`Redirect`]) and retry ([`Retry`]) policies of a session.

use std::time::Duration;

/// How many redirects a session follows; aiohttp's `allow_redirects` and
/// `max_redirects`.
///
/// The default is [`Redirect::limited`]`(10)`. The rules followed (RFC 9110
/// section 15.4) are described on [`SessionBuilder::redirect`](crate::SessionBuilder::redirect).
///
/// # Examples
///
/// ```
/// use corio_http::{Redirect, Session};
///
/// let no_redirects = Session::builder().redirect(Redirect::none()).build();
/// let at_most_3 = Session::builder().redirect(Redirect::limited(3)).build();
/// # let _ = (no_redirects, at_most_3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirect {
    pub(crate) max: usize,
}

impl Redirect {
    /// Follows at most `max` redirects per request; one more is an
    /// [`is_redirect`](crate::Error::is_redirect) error.
    ///
    /// # Examples
    ///
    /// ```
    /// let policy = corio_http::Redirect::limited(5);
    /// assert_ne!(policy, corio_http::Redirect::none());
    /// ```
    pub fn limited(max: usize) -> Redirect {
        Redirect { max }
    }

    /// Follows no redirect: a 3xx response is returned as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_http::Redirect::none(), corio_http::Redirect::limited(0));
    /// ```
    pub fn none() -> Redirect {
        Redirect { max: 0 }
    }
}

impl Default for Redirect {
    fn default() -> Redirect {
        Redirect::limited(10)
    }
}

/// Retries of idempotent requests with exponential backoff (off by default);
/// what aiohttp users get from `aiohttp-retry`.
///
/// A request is retried when its method is idempotent (GET, HEAD, PUT,
/// DELETE, OPTIONS, TRACE), its body can be sent again (not a stream), and
/// the attempt failed to connect, timed out (connect or read timeout), or
/// got a 502, 503 or 504 response. Before attempt `n + 1` the session sleeps
/// `base * 2^(n - 1)`, capped at `max`; a `Retry-After` header with a number
/// of seconds no larger than `max` is used instead. The total timeout of the
/// request covers all attempts. When the attempts are used up, the last
/// error, or the last 5xx response, is returned.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_http::{Retry, Session};
///
/// let session = Session::builder()
///     .retry(Retry::new(3).backoff(Duration::from_millis(100), Duration::from_secs(2)))
///     .build();
/// # let _ = session;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub(crate) max_attempts: u32,
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl Retry {
    /// At most `max_attempts` attempts in all (1 means no retry), with a
    /// backoff from 100 ms up to 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let retry = corio_http::Retry::new(4);
    /// # let _ = retry;
    /// ```
    pub fn new(max_attempts: u32) -> Retry {
        Retry {
            max_attempts: max_attempts.max(1),
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }

    /// Sets the first delay (`base`) and the longest one (`max`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let retry = corio_http::Retry::new(4).backoff(Duration::from_millis(10), Duration::from_secs(1));
    /// # let _ = retry;
    /// ```
    pub fn backoff(mut self, base: Duration, max: Duration) -> Retry {
        self.base = base;
        self.max = max.max(base);
        self
    }

    /// The delay before attempt `attempt + 1`, `attempt` counting from 1.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            if after <= self.max {
                return after;
            }
        }
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}
