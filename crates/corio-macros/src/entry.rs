//! The expansion shared by `#[corio::main]` and `#[corio::test]`.
//!
//! Both attributes turn an `async fn` into a plain `fn` that builds a runtime and
//! blocks on the original body. The work happens in three steps, each on
//! `proc_macro2` tokens so that the unit tests at the bottom can run them outside a
//! compiler invocation (`lib.rs` only converts between token types):
//!
//! 1. [`parse_item`] reads the annotated item as a function,
//! 2. [`try_expand`] reads the attribute arguments into a [`Config`] and checks the
//!    function, collecting every mistake it finds into one `syn::Error`,
//! 3. [`expand_fn`] writes the synchronous function.
//!
//! Every error carries the span of the user's tokens that caused it. When the
//! item parsed as a function but something is wrong, [`expand`] emits the errors
//! next to a synchronous stub of the function ([`stub`]), so the user reads our
//! message alone rather than also "`main` function not found" or "`main`
//! function is not allowed to be `async`".

use std::fmt;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitInt, LitStr, Path};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[corio::main]`.
    Main,
    /// `#[corio::test]`.
    Test,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Main => "`#[corio::main]`",
            Kind::Test => "`#[corio::test]`",
        })
    }
}

/// The kind of runtime the generated function builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// The attribute arguments, checked against each other.
struct Config {
    flavor: Flavor,
    /// The pool size and the span of the literal that set it.
    worker_threads: Option<(usize, Span)>,
    /// The path of the corio crate, `::corio` unless `crate = "..."` says otherwise.
    crate_path: Path,
}

/// Expands one attribute: the generated function, or the errors and a stub.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn = match parse_item(kind, item.clone()) {
        Ok(item_fn) => item_fn,
        // Not a function: keep the item as it was so that code using it does not
        // fail a second time.
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            return tokens;
        }
    };
    match try_expand(kind, args, &item_fn) {
        Ok(tokens) => tokens,
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(stub(&item_fn));
            tokens
        }
    }
}

/// Parses the annotated item as a function.
///
/// An item that is not a function gets a message naming the attribute; a function
/// that syn cannot parse (syntax newer than syn) keeps syn's own message.
fn parse_item(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    syn::parse2::<ItemFn>(item.clone()).map_err(|error| match syn::parse2::<syn::Item>(item) {
        Ok(other) if !matches!(other, syn::Item::Fn(_)) => syn::Error::new_spanned(
            other,
            format!("{kind} can only be applied to an `async fn`"),
        ),
        _ => error,
    })
}

/// Reads the arguments, checks the function, and writes the expansion if both are
/// fine; otherwise returns every error found.
fn try_expand(kind: Kind, args: TokenStream, item: &ItemFn) -> syn::Result<TokenStream> {
    match (parse_args(args), check_fn(kind, item)) {
        (Ok(config), Ok(())) => Ok(expand_fn(kind, &config, item)),
        (Err(mut error), Err(more)) => {
            error.combine(more);
            Err(error)
        }
        (Err(error), Ok(())) | (Ok(_), Err(error)) => Err(error),
    }
}

/// Parses `flavor = "..."`, `worker_threads = N` and `crate = "..."`.
fn parse_args(args: TokenStream) -> syn::Result<Config> {
    let mut flavor: Option<Flavor> = None;
    let mut worker_threads: Option<(usize, Span)> = None;
    // The span of the `worker_threads` key, for the conflict with `current_thread`.
    let mut worker_threads_key = Span::call_site();
    let mut crate_path: Option<Path> = None;

    syn::meta::parser(|meta| {
        if meta.path.is_ident("flavor") {
            if flavor.is_some() {
                return Err(meta.error("duplicate `flavor` argument"));
            }
            let value: LitStr = meta.value()?.parse()?;
            flavor = Some(match value.value().as_str() {
                "multi_thread" => Flavor::MultiThread,
                "current_thread" => Flavor::CurrentThread,
                other => {
                    return Err(syn::Error::new(
                        value.span(),
                        format!(
                            "unknown runtime flavor `{other}`; \
                             expected \"multi_thread\" or \"current_thread\""
                        ),
                    ))
                }
            });
            Ok(())
        } else if meta.path.is_ident("worker_threads") {
            if worker_threads.is_some() {
                return Err(meta.error("duplicate `worker_threads` argument"));
            }
            worker_threads_key = meta.path.span();
            let value: LitInt = meta.value()?.parse()?;
            let n: usize = value.base10_parse()?;
            if n == 0 {
                return Err(syn::Error::new(
                    value.span(),
                    "`worker_threads` must be at least 1",
                ));
            }
            worker_threads = Some((n, value.span()));
            Ok(())
        } else if meta.path.is_ident("crate") {
            if crate_path.is_some() {
                return Err(meta.error("duplicate `crate` argument"));
            }
            let value: LitStr = meta.value()?.parse()?;
            crate_path = Some(value.parse()?);
            Ok(())
        } else {
            let name = meta.path.to_token_stream().to_string().replace(' ', "");
            let hint = match name.as_str() {
                "multi_thread" | "current_thread" => {
                    format!(" (did you mean `flavor = \"{name}\"`?)")
                }
                _ => String::new(),
            };
            Err(meta.error(format!(
                "unknown argument `{name}`{hint}; \
                 expected `flavor`, `worker_threads` or `crate`"
            )))
        }
    })
    .parse2(args)?;

    let flavor = flavor.unwrap_or(Flavor::MultiThread);
    if flavor == Flavor::CurrentThread && worker_threads.is_some() {
        return Err(syn::Error::new(
            worker_threads_key,
            "`worker_threads` cannot be used with `flavor = \"current_thread\"`: \
             a current-thread runtime runs every task on the thread that blocks on it",
        ));
    }
    Ok(Config {
        flavor,
        worker_threads,
        crate_path: crate_path.unwrap_or_else(|| syn::parse_quote!(::corio)),
    })
}

/// Checks that the function can become a `main` or test function.
fn check_fn(kind: Kind, item: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "{kind} needs an `async fn`: \
                 the `async` keyword is missing from the function declaration"
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let message = match kind {
            Kind::Main => {
                "the `main` function cannot take arguments; \
                 read command-line arguments with `std::env::args()`"
            }
            Kind::Test => "test functions cannot take arguments",
        };
        errors.push(syn::Error::new_spanned(&sig.inputs, message));
    }
    if !sig.generics.params.is_empty() {
        let message = match kind {
            Kind::Main => "the `main` function cannot be generic",
            Kind::Test => "test functions cannot be generic",
        };
        errors.push(syn::Error::new_spanned(&sig.generics, message));
    }
    if kind == Kind::Test {
        for attr in item.attrs.iter().filter(|attr| is_test_attr(attr)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "a second test attribute: `#[corio::test]` already marks the function \
                 as a test; remove this one",
            ));
        }
    }
    errors
        .into_iter()
        .reduce(|mut all, error| {
            all.combine(error);
            all
        })
        .map_or(Ok(()), Err)
}

/// Whether `attr` makes the function a test: `#[test]`, `#[core::prelude::v1::test]`,
/// or another crate's `#[...::test]`.
fn is_test_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}

/// Writes the synchronous function that blocks on the body.
fn expand_fn(kind: Kind, config: &Config, item: &ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    let mut sig = sig.clone();
    sig.asyncness = None;

    let krate = &config.crate_path;
    let flavor = match config.flavor {
        Flavor::MultiThread => quote!(.multi_thread()),
        Flavor::CurrentThread => quote!(.current_thread()),
    };
    let worker_threads = config.worker_threads.map(|(n, span)| {
        let mut n = Literal::usize_unsuffixed(n);
        n.set_span(span);
        quote!(.worker_threads(#n))
    });
    let test_attr = match kind {
        Kind::Main => None,
        Kind::Test => Some(quote!(#[::core::prelude::v1::test])),
    };

    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #krate::Runtime::builder()
                #flavor
                #worker_threads
                .build()
                .expect("failed to build the corio runtime")
                .block_on(async move #block)
        }
    }
}

/// A synchronous stand-in for a function whose expansion failed.
///
/// It has the function's name, visibility and return type but no arguments, no
/// `async` and no test attribute, so that the compiler reports nothing beyond the
/// errors emitted beside it.
fn stub(item: &ItemFn) -> TokenStream {
    let ItemFn {
        attrs, vis, sig, ..
    } = item;
    let mut sig = sig.clone();
    sig.asyncness = None;
    sig.inputs.clear();
    let attrs = attrs.iter().filter(|attr| !is_test_attr(attr));
    quote! {
        #(#attrs)*
        #[allow(dead_code)]
        #vis #sig {
            ::core::unreachable!()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expands `item` under `kind` with `args`, returning the generated tokens.
    fn expand_ok(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
        let item = parse_item(kind, item).expect("the item should parse");
        try_expand(kind, args, &item).expect("the expansion should succeed")
    }

    /// Expands `item` under `kind` with `args`, returning every error message.
    fn errors(kind: Kind, args: TokenStream, item: TokenStream) -> Vec<String> {
        let result = parse_item(kind, item).and_then(|item| try_expand(kind, args, &item));
        match result {
            Ok(tokens) => panic!("expected an error, got `{tokens}`"),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// Asserts that two token streams are the same tokens.
    fn assert_tokens_eq(actual: TokenStream, expected: TokenStream) {
        assert_eq!(actual.to_string(), expected.to_string());
    }

    #[test]
    fn main_defaults_to_multi_thread() {
        let actual = expand_ok(
            Kind::Main,
            quote!(),
            quote! {
                async fn main() {
                    work().await;
                }
            },
        );
        let expected = quote! {
            fn main() {
                ::corio::Runtime::builder()
                    .multi_thread()
                    .build()
                    .expect("failed to build the corio runtime")
                    .block_on(async move {
                        work().await;
                    })
            }
        };
        assert_tokens_eq(actual, expected);
    }

    #[test]
    fn main_keeps_attributes_visibility_and_return_type() {
        let actual = expand_ok(
            Kind::Main,
            quote!(flavor = "current_thread", crate = "my_reexport::corio"),
            quote! {
                /// Docs.
                #[allow(unused)]
                pub(crate) async fn main() -> Result<(), std::io::Error> {
                    Ok(())
                }
            },
        );
        let expected = quote! {
            /// Docs.
            #[allow(unused)]
            pub(crate) fn main() -> Result<(), std::io::Error> {
                my_reexport::corio::Runtime::builder()
                    .current_thread()
                    .build()
                    .expect("failed to build the corio runtime")
                    .block_on(async move {
                        Ok(())
                    })
            }
        };
        assert_tokens_eq(actual, expected);
    }

    #[test]
    fn worker_threads_are_passed_unsuffixed() {
        let actual = expand_ok(
            Kind::Main,
            quote!(flavor = "multi_thread", worker_threads = 4usize),
            quote!(
                async fn main() {}
            ),
        );
        let expected = quote! {
            fn main() {
                ::corio::Runtime::builder()
                    .multi_thread()
                    .worker_threads(4)
                    .build()
                    .expect("failed to build the corio runtime")
                    .block_on(async move {})
            }
        };
        assert_tokens_eq(actual, expected);
    }

    #[test]
    fn test_adds_the_test_attribute_first() {
        let actual = expand_ok(
            Kind::Test,
            quote!(worker_threads = 2),
            quote! {
                #[should_panic]
                async fn it_panics() -> Result<(), String> {
                    panic!("boom")
                }
            },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            #[should_panic]
            fn it_panics() -> Result<(), String> {
                ::corio::Runtime::builder()
                    .multi_thread()
                    .worker_threads(2)
                    .build()
                    .expect("failed to build the corio runtime")
                    .block_on(async move {
                        panic!("boom")
                    })
            }
        };
        assert_tokens_eq(actual, expected);
    }

    #[test]
    fn crate_can_be_the_current_crate() {
        let actual = expand_ok(
            Kind::Test,
            quote!(crate = "crate", flavor = "current_thread"),
            quote!(
                async fn inside_corio() {}
            ),
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn inside_corio() {
                crate::Runtime::builder()
                    .current_thread()
                    .build()
                    .expect("failed to build the corio runtime")
                    .block_on(async move {})
            }
        };
        assert_tokens_eq(actual, expected);
    }

    #[test]
    fn non_async_fn_is_an_error() {
        for kind in [Kind::Main, Kind::Test] {
            let messages = errors(
                kind,
                quote!(),
                quote!(
                    fn main() {}
                ),
            );
            assert_eq!(
                messages,
                [format!(
                    "{kind} needs an `async fn`: \
                     the `async` keyword is missing from the function declaration"
                )]
            );
        }
    }

    #[test]
    fn unknown_argument_is_an_error() {
        let messages = errors(
            Kind::Main,
            quote!(threads = 4),
            quote!(
                async fn main() {}
            ),
        );
        assert_eq!(
            messages,
            ["unknown argument `threads`; expected `flavor`, `worker_threads` or `crate`"]
        );
    }

    #[test]
    fn bare_flavor_name_gets_a_hint() {
        let messages = errors(
            Kind::Test,
            quote!(current_thread),
            quote!(
                async fn t() {}
            ),
        );
        assert_eq!(
            messages,
            ["unknown argument `current_thread` \
                 (did you mean `flavor = \"current_thread\"`?); \
                 expected `flavor`, `worker_threads` or `crate`"]
        );
    }

    #[test]
    fn unknown_flavor_is_an_error() {
        let messages = errors(
            Kind::Main,
            quote!(flavor = "single_thread"),
            quote!(
                async fn main() {}
            ),
        );
        assert_eq!(
            messages,
            ["unknown runtime flavor `single_thread`; \
              expected \"multi_thread\" or \"current_thread\""]
        );
    }

    #[test]
    fn worker_threads_with_current_thread_is_an_error() {
        // In either order.
        for args in [
            quote!(flavor = "current_thread", worker_threads = 2),
            quote!(worker_threads = 2, flavor = "current_thread"),
        ] {
            let messages = errors(
                Kind::Test,
                args,
                quote!(
                    async fn t() {}
                ),
            );
            assert_eq!(
                messages,
                [
                    "`worker_threads` cannot be used with `flavor = \"current_thread\"`: \
                  a current-thread runtime runs every task on the thread that blocks on it"
                ]
            );
        }
    }

    #[test]
    fn malformed_arguments_are_errors() {
        let cases = [
            (
                quote!(worker_threads = 0),
                "`worker_threads` must be at least 1",
            ),
            (quote!(worker_threads = "2"), "expected integer literal"),
            (quote!(flavor = current_thread), "expected string literal"),
            (
                quote!(flavor = "multi_thread", flavor = "multi_thread"),
                "duplicate `flavor` argument",
            ),
            (
                quote!(worker_threads = 1, worker_threads = 2),
                "duplicate `worker_threads` argument",
            ),
            (
                quote!(crate = "a", crate = "b"),
                "duplicate `crate` argument",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(
                errors(
                    Kind::Main,
                    args.clone(),
                    quote!(
                        async fn main() {}
                    )
                ),
                [message],
                "for `{args}`"
            );
        }
    }

    #[test]
    fn arguments_on_main_are_an_error() {
        let messages = errors(
            Kind::Main,
            quote!(),
            quote!(
                async fn main(args: Vec<String>) {}
            ),
        );
        assert_eq!(
            messages,
            ["the `main` function cannot take arguments; \
              read command-line arguments with `std::env::args()`"]
        );
    }

    #[test]
    fn arguments_and_generics_on_tests_are_errors() {
        let messages = errors(
            Kind::Test,
            quote!(),
            quote!(
                async fn t<T>(value: T) {}
            ),
        );
        assert_eq!(
            messages,
            [
                "test functions cannot take arguments",
                "test functions cannot be generic"
            ]
        );
    }

    #[test]
    fn second_test_attribute_is_an_error() {
        for attr in [quote!(#[test]), quote!(#[::core::prelude::v1::test])] {
            let messages = errors(
                Kind::Test,
                quote!(),
                quote! {
                    #attr
                    async fn t() {}
                },
            );
            assert_eq!(
                messages,
                [
                    "a second test attribute: `#[corio::test]` already marks the function \
                  as a test; remove this one"
                ]
            );
        }
    }

    #[test]
    fn argument_and_function_errors_are_reported_together() {
        let messages = errors(
            Kind::Main,
            quote!(bogus),
            quote!(
                fn main(x: u8) {}
            ),
        );
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("unknown argument `bogus`"));
        assert!(messages[1].contains("the `async` keyword is missing"));
        assert!(messages[2].starts_with("the `main` function cannot take arguments"));
    }

    #[test]
    fn items_other_than_functions_are_errors() {
        let messages = errors(
            Kind::Main,
            quote!(),
            quote!(
                struct Main;
            ),
        );
        assert_eq!(
            messages,
            ["`#[corio::main]` can only be applied to an `async fn`"]
        );
    }

    #[test]
    fn failed_expansion_emits_the_errors_and_a_stub() {
        let actual = expand(
            Kind::Test,
            quote!(),
            quote! {
                #[test]
                pub async fn t(x: u8) -> u8 { x }
            },
        );
        let stub = quote! {
            #[allow(dead_code)]
            pub fn t() -> u8 {
                ::core::unreachable!()
            }
        };
        let actual = actual.to_string();
        assert_eq!(actual.matches("compile_error").count(), 2, "{actual}");
        assert!(actual.ends_with(&stub.to_string()), "{actual}");
    }

    #[test]
    fn failed_parse_keeps_the_item() {
        let item = quote!(
            struct Main;
        );
        let actual = expand(Kind::Main, quote!(), item.clone()).to_string();
        assert!(actual.starts_with(":: core :: compile_error !"), "{actual}");
        assert!(actual.ends_with(&item.to_string()), "{actual}");
    }
}
