//! Hello, world: the first asyncio program, in corio.
//!
//! Run it with `cargo run --release --example hello`.
//!
//! ```python
//! import asyncio
//!
//! async def main():
//!     print("Hello,")
//!     await asyncio.sleep(0.1)
//!     print("world!")
//!
//! asyncio.run(main())
//! ```

use std::time::Duration;

#[corio::main]
async fn main() {
    println!("Hello,");
    corio::sleep(Duration::from_millis(100)).await;
    println!("world!");
}
