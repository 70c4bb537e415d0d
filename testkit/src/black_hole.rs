//! A "black hole" endpoint: a TCP listener on loopback that accepts every
//! connection, reads whatever the client sends (the request, its body) and
//! never answers — what a client meets behind a stuck load balancer, a
//! dropped NAT mapping or a proxy that took the request and died. Pointed to
//! by `AWS_ENDPOINT_URL`, it shows whether a tool hangs or gives up.
//!
//! Limits: plain TCP only (no TLS: `http://` endpoints); it never writes a
//! byte and never closes a connection itself, so a client without timeouts
//! waits until the `BlackHole` is dropped (which closes every connection it
//! holds). It counts connections and bytes received, not requests: it does
//! not parse HTTP. One thread per connection, for the handful a test opens.

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    connections: AtomicUsize,
    bytes: AtomicUsize,
    open: Mutex<Vec<TcpStream>>,
}

/// Listens on `127.0.0.1:PORT` until dropped.
pub struct BlackHole {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("the listener's address");
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                if let Ok(handle) = stream.try_clone() {
                    accepting
                        .open
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(handle);
                }
                let reading = Arc::clone(&accepting);
                std::thread::spawn(move || swallow(stream, &reading));
            }
        });
        BlackHole {
            address,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The environment a child process needs to send its AWS requests here
    /// (test credentials; no instance metadata lookup).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Bytes received so far, over all connections (requests taken).
    pub fn bytes_received(&self) -> usize {
        self.shared.bytes.load(Ordering::SeqCst)
    }
}

/// Reads until the client closes (or the black hole is dropped); never writes.
fn swallow(mut stream: TcpStream, shared: &Shared) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                shared.bytes.fetch_add(n, Ordering::SeqCst);
            }
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which sees `stopping` and ends.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .shared
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use super::*;

    #[test]
    fn takes_the_request_and_never_answers() {
        let hole = BlackHole::start();
        let mut client = TcpStream::connect(hole.address).unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut answer = [0_u8; 1];
        let read = client.read(&mut answer);
        assert!(
            read.as_ref().is_err_and(|e| matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )),
            "no answer, no close: {read:?}"
        );
        assert_eq!(hole.connections(), 1);
        assert_eq!(hole.bytes_received(), 27);
        drop(hole);
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(client.read(&mut answer).unwrap_or(0), 0, "closed on drop");
    }
}
