//! A TCP echo server and a few clients, all in one program.
//!
//! Run it with `cargo run --release --example echo`.
//!
//! ```python
//! import asyncio
//!
//! async def handle(reader, writer):
//!     while data := await reader.read(1024):
//!         writer.write(data)
//!         await writer.drain()
//!     writer.close()
//!
//! async def client(n, port):
//!     reader, writer = await asyncio.open_connection("127.0.0.1", port)
//!     echoed = 0
//!     for i in range(3):
//!         line = f"client {n} line {i}\n".encode()
//!         writer.write(line)
//!         echoed += len(await reader.readexactly(len(line)))
//!     writer.close()
//!     return echoed
//!
//! async def main():
//!     server = await asyncio.start_server(handle, "127.0.0.1", 0)
//!     port = server.sockets[0].getsockname()[1]
//!     print(f"server listening on 127.0.0.1:{port}")
//!     clients = [asyncio.create_task(client(n, port)) for n in range(5)]
//!     for n, c in enumerate(clients):
//!         print(f"client {n}: echoed {await c} bytes")
//!     print("echo: all clients done")
//!
//! asyncio.run(main())
//! ```

use std::io;
use std::net::SocketAddr;

use corio::net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

const CLIENTS: usize = 5;
const LINES: usize = 3;

/// Echoes everything it reads until the client closes its side.
async fn handle(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Sends a few lines, reads each one back and returns the bytes echoed.
async fn client(n: usize, addr: SocketAddr) -> io::Result<usize> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut echoed = 0;
    for i in 0..LINES {
        let line = format!("client {n} line {i}\n");
        stream.write_all(line.as_bytes()).await?;
        let mut back = vec![0; line.len()];
        stream.read_exact(&mut back).await?;
        assert_eq!(back, line.as_bytes());
        echoed += back.len();
    }
    Ok(echoed)
}

#[corio::main]
async fn main() -> io::Result<()> {
    // asyncio.start_server: an accept loop, one task per connection.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("server listening on {addr}");
    corio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => corio::spawn(handle(stream)).detach(),
                Err(e) => eprintln!("accept failed: {e}"),
            }
        }
    })
    .detach();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| corio::spawn(client(n, addr)))
        .collect();
    for (n, c) in clients.into_iter().enumerate() {
        let echoed = c.await.expect("client task")?;
        println!("client {n}: echoed {echoed} bytes");
    }
    // Leaving main stops the runtime, which cancels the server's tasks.
    println!("echo: all clients done");
    Ok(())
}
