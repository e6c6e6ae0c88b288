//! The public surface of `corio_http::Error`: auto traits and the traits an
//! error type must have to travel through `?`, `Box<dyn Error>` and threads.
//!
//! Its behaviour (predicates, messages, the source chain) is tested beside
//! the code, where the crate-private constructors are reachable.

use corio_http::Error;

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}
fn is_unpin<T: Unpin>() {}
fn is_static<T: 'static>() {}
fn is_std_error<T: std::error::Error + std::fmt::Debug + std::fmt::Display>() {}

#[test]
fn error_is_send_sync_unpin_static() {
    is_send::<Error>();
    is_sync::<Error>();
    is_unpin::<Error>();
    is_static::<Error>();
    is_std_error::<Error>();
}

#[test]
fn error_converts_into_boxed_errors() {
    fn boxed(err: Error) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        err.into()
    }
    fn io(err: Error) -> std::io::Error {
        std::io::Error::other(err)
    }
    let _ = (boxed, io);
    // One pointer wide: `Result<T, Error>` costs no more than `Result<T, Box<_>>`.
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    assert_eq!(
        std::mem::size_of::<Option<Error>>(),
        std::mem::size_of::<usize>()
    );
}
