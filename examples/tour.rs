//! A tour of corio: asyncio's tasks, said in Rust.
//!
//! Run it with `cargo run --release --example tour`.
//!
//! Each section mirrors a few lines of asyncio:
//!
//! ```python
//! async def main():
//!     tasks = [asyncio.create_task(square(i)) for i in range(10)]
//!     print(sum(await asyncio.gather(*tasks)))
//! asyncio.run(main())
//! ```
//!
//! and, further on, sleeps, timeouts and sockets:
//!
//! ```python
//! await asyncio.sleep(0.01)
//! try:
//!     await asyncio.wait_for(asyncio.sleep(10), timeout=0.02)
//! except TimeoutError:
//!     print("timed out")
//! reader, writer = await asyncio.open_connection(host, port)
//! ```
//!
//! and then `gather`, a `TaskGroup`, a `Queue` with workers, and an HTTP
//! server and client (aiohttp's `web` and `ClientSession`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::net::{TcpListener, TcpStream};
use corio::sync::{Lock, Queue};
use corio::{Runtime, TaskBuilder, UnhandledPanic};
use corio_http::server::{Request, Response, Router, Server};
use corio_http::Session;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

async fn square(i: u64) -> u64 {
    // Let other tasks run between steps, like `await asyncio.sleep(0)`.
    corio::yield_now().await;
    i * i
}

/// Sets a flag when dropped, so we can see a cancelled task's future go away.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn main() {
    // asyncio.run(main()): here with an explicit runtime so that the report
    // of an unobserved panic goes to stdout, where the tour can show it.
    let reported = Arc::new(AtomicBool::new(false));
    let seen = reported.clone();
    let rt = Runtime::builder()
        .unhandled_panic(UnhandledPanic::Custom(Arc::new(move |p| {
            println!("  runtime report: {p}");
            seen.store(true, Ordering::SeqCst);
        })))
        .build()
        .expect("runtime");

    rt.block_on(async {
        // 1. create_task: tasks start at once, in the background.
        let tasks: Vec<_> = (0..10).map(|i| corio::spawn(square(i))).collect();
        println!("spawned {} tasks", tasks.len());

        // 2. await each task, in order: results come back as Ok(value).
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("square does not fail");
        }
        println!("joined: the sum of squares 0..10 is {total}");

        // 3. A task that panics does not take the program down: whoever
        //    awaits it gets a JoinError carrying the panic.
        let bad = TaskBuilder::new()
            .name("divide")
            .spawn(async { panic!("division by zero") });
        match bad.await {
            Ok(()) => unreachable!(),
            Err(e) => println!("panicked, and we caught it: {e}"),
        }

        // A detached task that panics is reported by the runtime, like
        // asyncio's "Task exception was never retrieved".
        let forgotten = TaskBuilder::new()
            .name("forgotten")
            .spawn(async { panic!("nobody is listening") });
        drop(forgotten);
        while !reported.load(Ordering::SeqCst) {
            corio::yield_now().await;
        }

        // 4. task.cancel(): the task's future is dropped at its await point.
        let flag = Arc::new(AtomicBool::new(false));
        let guard = Dropped(flag.clone());
        let forever = corio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        let err = forever.cancel().await.unwrap_err();
        println!(
            "cancelled: {} (its future was dropped: {})",
            err.is_cancelled(),
            flag.load(Ordering::SeqCst)
        );

        // 5. !Send tasks run on the thread that blocks, with spawn_local.
        let local = std::rc::Rc::new(String::from("local"));
        let l = local.clone();
        let n = corio::spawn_local(async move { l.len() }).await.unwrap();
        println!("a !Send task on the main thread saw a {n}-byte string");

        // 6. asyncio.sleep and asyncio.wait_for: a sleep suspends only its
        //    task; a timeout drops the future it wraps at the deadline.
        let start = Instant::now();
        corio::sleep(Duration::from_millis(10)).await;
        let slept = start.elapsed();
        println!(
            "slept 10 ms (and not less: {})",
            slept >= Duration::from_millis(10)
        );
        let slow = corio::sleep(Duration::from_secs(10));
        match corio::timeout(Duration::from_millis(20), slow).await {
            Ok(()) => unreachable!("a 10 s sleep cannot beat a 20 ms deadline"),
            Err(e) => println!("timed out: {e}"),
        }
        let quick = corio::timeout(Duration::from_secs(10), async { "in time" }).await;
        println!("finished before the deadline: {}", quick.unwrap());

        // 7. start_server and open_connection: a socket round trip.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let server = corio::spawn(async move {
            let (mut stream, _) = listener.accept().await?;
            let mut buf = [0; 4];
            stream.read_exact(&mut buf).await?;
            stream.write_all(b"pong").await?;
            std::io::Result::Ok(buf)
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        client.write_all(b"ping").await.expect("write");
        let mut reply = [0; 4];
        client.read_exact(&mut reply).await.expect("read");
        let heard = server.await.unwrap().expect("server");
        println!(
            "socket round trip: sent {:?}, got {:?}",
            String::from_utf8_lossy(&heard),
            String::from_utf8_lossy(&reply)
        );

        // 8. asyncio.gather and asyncio.TaskGroup: many tasks, one await.
        let squares = corio::gather((0..5).map(square)).await.unwrap();
        println!("gathered in argument order: {squares:?}");
        let failed = corio::task_group(|group| async move {
            group.spawn(async { Err::<(), _>("child 1 failed") });
            group.spawn(async {
                corio::sleep(Duration::from_secs(60)).await;
                Ok(())
            });
            Ok(())
        })
        .await
        .unwrap_err();
        println!("task group: {failed} (the sleeping sibling was cancelled)");

        // 9. asyncio.Queue with task_done/join, and an asyncio.Lock.
        let queue = Arc::new(Queue::new(2));
        let total = Arc::new(Lock::new(0u64));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (queue, total) = (queue.clone(), total.clone());
                corio::spawn(async move {
                    while let Ok(n) = queue.get().await {
                        *total.lock().await += n;
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        for n in 1..=10 {
            queue.put(n).await.unwrap();
        }
        queue.join().await;
        queue.shutdown(false);
        for w in workers {
            w.await.unwrap();
        }
        println!("queue: 2 workers summed 1..=10 to {}", *total.lock().await);

        // 10. aiohttp: a small web server and a pooled client session.
        let app = Router::new().get("/{name}", |req: Request| async move {
            Response::text(format!("Hello, {}!", req.param("name").unwrap_or("?")))
        });
        let server = Server::bind("127.0.0.1:0").await.expect("bind").serve(app);
        let session = Session::new();
        let url = format!("http://{}/tour", server.local_addr());
        let resp = session.get(&url).send().await.expect("GET");
        let status = resp.status();
        let body = resp.text().await.expect("body");
        println!("http: GET /tour -> {status}: {body}");
        server.shutdown().await;
    });

    // 11. Leaving the runtime cancels what is still pending (asyncio.run does too).
    let flag = Arc::new(AtomicBool::new(false));
    let guard = Dropped(flag.clone());
    rt.block_on(async move {
        corio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        })
        .detach();
    });
    drop(rt);
    println!(
        "done: the runtime stopped and dropped its pending task: {}",
        flag.load(Ordering::SeqCst)
    );
}
