//! The aiohttp "hello" web server, with corio-http.
//!
//! Run it with `cargo run --example web_server`: it starts the server on a
//! free port, acts as its own client (two raw HTTP/1.1 requests), prints what
//! came back and shuts the server down gracefully. With
//! `cargo run --example web_server -- --serve 127.0.0.1:8080` it serves until
//! it is killed (try `curl http://127.0.0.1:8080/corio`).
//!
//! ```python
//! from aiohttp import web
//!
//! async def handle(request):
//!     name = request.match_info.get('name', "Anonymous")
//!     return web.Response(text=f"Hello, {name}!")
//!
//! app = web.Application()
//! app.add_routes([web.get('/', handle), web.get('/{name}', handle)])
//! web.run_app(app)
//! ```

use std::io;
use std::net::SocketAddr;

use corio::net::TcpStream;
use corio_http::server::{Request, Response, Router, Server};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// `request.match_info.get('name', "Anonymous")`
async fn handle(req: Request) -> Response {
    let name = req.param("name").unwrap_or("Anonymous");
    Response::text(format!("Hello, {name}!"))
}

/// `app.add_routes([web.get('/', handle), web.get('/{name}', handle)])`
fn app() -> Router {
    Router::new().get("/", handle).get("/{name}", handle)
}

/// One `GET` over a fresh connection: returns the status (`200 OK`) and body.
async fn get(addr: SocketAddr, path: &str) -> io::Result<(String, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed response");
    let (head, body) = reply.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1.1 "))
        .ok_or_else(bad)?;
    Ok((status.to_owned(), body.to_owned()))
}

/// Serves, queries itself, stops; prints and returns the lines it printed
/// (`pub(crate)` so that corio-http's tests run this very program).
pub(crate) async fn demo() -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        lines.push(line);
    };
    let server = Server::bind("127.0.0.1:0").await?.serve(app());
    let addr = server.local_addr();
    say(format!("listening on http://{addr}"));
    for path in ["/", "/corio"] {
        let (status, body) = get(addr, path).await?;
        say(format!("GET {path} -> {status}: {body}"));
    }
    server.shutdown().await;
    say("server stopped".to_owned());
    Ok(lines)
}

/// `web.run_app(app)`: serves until the process is killed.
async fn serve(addr: String) -> io::Result<()> {
    let server = Server::bind(addr.as_str()).await?;
    println!("listening on http://{}", server.local_addr()?);
    server.run(app()).await;
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => corio::run(demo()).map(drop),
        [flag, addr] if flag == "--serve" => corio::run(serve(addr.clone())),
        _ => {
            eprintln!("usage: web_server [--serve ADDR]");
            std::process::exit(2);
        }
    }
}
