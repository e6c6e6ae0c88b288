//! The `#[corio::main]` and `#[corio::test]` attributes.
//!
//! This crate is an implementation detail of [corio]: use the attributes through
//! their re-exports, `corio::main` and `corio::test`, whose documentation carries
//! runnable examples. The examples below are plain text because corio itself is not
//! a dependency of this crate.
//!
//! # A short tour
//!
//! Rust has no `async fn main`, and `#[test]` functions cannot be `async` either:
//! something has to own a runtime and drive the future to completion. In Python
//! that is `asyncio.run(main())`; in corio it is one attribute.
//!
//! ```text
//! #[corio::main]
//! async fn main() -> std::io::Result<()> {
//!     let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
//!     println!("{answer}");
//!     Ok(())
//! }
//! ```
//!
//! becomes, with the body untouched,
//!
//! ```text
//! fn main() -> std::io::Result<()> {
//!     ::corio::Runtime::builder()
//!         .multi_thread()
//!         .build()
//!         .expect("failed to build the corio runtime")
//!         .block_on(async move {
//!             let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
//!             println!("{answer}");
//!             Ok(())
//!         })
//! }
//! ```
//!
//! `#[corio::test]` does the same for a test function and adds the standard
//! `#[test]` attribute, so every test gets a fresh runtime of its own (the role of
//! Python's `unittest.IsolatedAsyncioTestCase`):
//!
//! ```text
//! #[corio::test]
//! async fn spawned_tasks_complete() {
//!     assert_eq!(corio::spawn(async { 1 + 1 }).await.unwrap(), 2);
//! }
//! ```
//!
//! # How the pieces relate
//!
//! Both attributes only write calls to the public runtime API of the `corio`
//! crate: `Runtime::builder()`, the `Builder` methods `multi_thread()`,
//! `current_thread()`, `worker_threads(n)` and `build()`, and
//! `Runtime::block_on`. Anything they do can be written by hand with that API,
//! which is the way to go when a program needs more control, such as several
//! runtimes or a runtime that outlives `main`'s future.
//!
//! The function keeps its attributes, visibility, name and return type, so `main`
//! may return anything `main` may return (`Result<(), E>` included) and tests may
//! return `Result<(), E>` as well, and `#[ignore]` or `#[should_panic]` keep working
//! on tests. The body runs as an `async move` block, so `return` and `?` leave the
//! body with the function's return type.
//!
//! # Arguments
//!
//! Both attributes take the same comma-separated arguments:
//!
//! - `flavor = "multi_thread"` (the default for both) runs tasks on a pool of
//!   worker threads; `flavor = "current_thread"` runs every task on the thread
//!   that blocks on the body, like a single asyncio event loop.
//! - `worker_threads = N` sets the size of the multi-thread pool. It is an error
//!   together with `flavor = "current_thread"`, which has no pool.
//! - `crate = "path"` names the corio crate by another path than `::corio`. Crates
//!   that re-export corio under another name need it, and so does code inside corio
//!   itself (`crate = "crate"`).
//!
//! ```text
//! #[corio::test(flavor = "current_thread")]
//! async fn runs_on_one_thread() { /* ... */ }
//!
//! #[corio::main(worker_threads = 4)]
//! async fn main() { /* ... */ }
//! ```
//!
//! # Errors
//!
//! Mistakes are reported as ordinary compiler errors pointing at the offending
//! tokens: a function that is not `async`, an unknown or repeated argument,
//! `worker_threads` with the current-thread flavour, a `main` or test function that
//! takes arguments or generic parameters, and a test function that already carries
//! a `#[test]` attribute.
//!
//! [corio]: https://docs.rs/corio

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod entry;

/// Runs an `async fn main` to completion on a new corio runtime.
///
/// The function becomes a plain `fn` with the same attributes, visibility, name
/// and return type, whose body builds a runtime with `corio::Runtime::builder()`
/// and blocks on the original body as an `async move` block. The program ends when
/// that future completes; tasks still running then are dropped with the runtime.
///
/// Arguments: `flavor = "multi_thread"` (the default) or `flavor =
/// "current_thread"`, `worker_threads = N` (multi-thread only) and `crate =
/// "path"` to reach corio by another path than `::corio`. See the crate
/// documentation above for what each one does, and the `corio` crate's
/// documentation of its `main` re-export for runnable examples.
///
/// ```text
/// #[corio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let contents = read_config().await?;
///     println!("{contents}");
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// Compilation fails with a message at the offending tokens if the function is
/// not `async`, takes arguments or generic parameters, or if an argument is
/// unknown, repeated or malformed, or `worker_threads` is combined with the
/// current-thread flavour.
///
/// # Panics
///
/// The generated `main` panics with "failed to build the corio runtime" if the
/// runtime cannot be built, for example when the operating system refuses to
/// start its worker threads.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test to completion on a new corio runtime.
///
/// The function becomes a plain `#[test]` function with the same attributes,
/// visibility, name and return type, so `#[ignore]`, `#[should_panic]` and tests
/// returning `Result<(), E>` behave as they do for synchronous tests. Each test
/// builds its own runtime and blocks on the original body as an `async move` block;
/// nothing is shared between tests.
///
/// The arguments are those of `#[corio::main]`, with the same multi-thread default;
/// `flavor = "current_thread"` makes every task of the test run on the test's own
/// thread, which keeps the order of events reproducible. See the `corio` crate's
/// documentation of its `test` re-export for runnable examples.
///
/// ```text
/// #[corio::test(worker_threads = 2)]
/// async fn answer_from_another_task() -> Result<(), String> {
///     let answer = corio::spawn(async { 42 }).await.map_err(|e| e.to_string())?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// Compilation fails with a message at the offending tokens in the cases listed
/// for `#[corio::main]`, and also when the function already has a `#[test]`
/// attribute: `#[corio::test]` adds that attribute itself.
///
/// # Panics
///
/// The generated test panics with "failed to build the corio runtime" if the
/// runtime cannot be built, and like any test when its body panics.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}
