//! A "black hole" endpoint: a TCP listener on loopback that accepts every
//! connection, reads whatever the client sends (the request, its body) and
//! never answers — what a client meets behind a stuck load balancer, a
//! dropped NAT mapping or a proxy that took the request and died. Pointed to
//! by `AWS_ENDPOINT_URL`, it shows whether a tool hangs or gives up.
//!
//! `BlackHole::in_front_of(upstream, swallow)` is a selective one: it reads
//! each request (HTTP/1.1 head and a `Content-Length` body) and either
//! swallows it, when `swallow` says so, or forwards it to `upstream` (moto's
//! server, say) and relays the answer — so a test can let a command's first
//! requests through and make, say, its third delete go unanswered.
//! `BlackHole::deciding(upstream, decide)` also has a third [`Fate`]: the
//! request reaches upstream (it is done) but its answer is lost, as when a
//! connection drops after the server acted.
//!
//! Limits: plain TCP only (no TLS: `http://` endpoints); a swallowed request
//! gets no byte back and its connection is never closed by the black hole, so
//! a client without timeouts waits until the `BlackHole` is dropped (which
//! closes every connection it holds). A forwarded request is sent upstream
//! with `Connection: close` and its connection closed after the answer: one
//! request per connection. Chunked request bodies are not parsed: such a
//! request is swallowed. One thread per connection, for the handful to a few
//! hundred a test opens.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// A request as the black hole read it, for `swallow` to decide on.
#[derive(Debug)]
pub struct Seen<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The request line and headers, as sent.
    pub head: &'a str,
    pub body: &'a [u8],
}

impl Seen<'_> {
    /// A header's value (the first of that name, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// An AWS delete in any of the protocols: `DELETE` (REST), an
    /// `X-Amz-Target: Service.Delete…` (JSON) or `Action=Delete…` (query).
    pub fn is_delete(&self) -> bool {
        self.method == "DELETE"
            || self.header("x-amz-target").is_some_and(|t| {
                t.split('.')
                    .next_back()
                    .is_some_and(|op| op.starts_with("Delete"))
            })
            || self.body.starts_with(b"Action=Delete")
    }
}

/// What becomes of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Sent upstream, its answer relayed.
    Forward,
    /// Never sent on, never answered.
    Swallow,
    /// Sent upstream (so it takes effect), its answer dropped: the client
    /// gets nothing back, ever.
    LoseAnswer,
}

type Decide = Box<dyn FnMut(&Seen<'_>) -> Fate + Send>;

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    connections: AtomicUsize,
    bytes: AtomicUsize,
    forwarded: AtomicUsize,
    swallowed: AtomicUsize,
    open: Mutex<Vec<TcpStream>>,
    /// Where requests `decide` lets through go; none: every one is swallowed.
    upstream: Option<SocketAddr>,
    decide: Option<Mutex<Decide>>,
}

/// Listens on `127.0.0.1:PORT` until dropped.
pub struct BlackHole {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl BlackHole {
    /// Swallows every request.
    pub fn start() -> BlackHole {
        BlackHole::with(Shared::default())
    }

    /// Forwards every request to `upstream` (`http://HOST:PORT`) but those
    /// `swallow` picks, which get no answer.
    pub fn in_front_of(
        upstream: &str,
        mut swallow: impl FnMut(&Seen<'_>) -> bool + Send + 'static,
    ) -> BlackHole {
        BlackHole::deciding(upstream, move |seen| {
            if swallow(seen) {
                Fate::Swallow
            } else {
                Fate::Forward
            }
        })
    }

    /// Each request's [`Fate`] as `decide` says.
    pub fn deciding(
        upstream: &str,
        decide: impl FnMut(&Seen<'_>) -> Fate + Send + 'static,
    ) -> BlackHole {
        let address = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("upstream is http://IP:PORT");
        BlackHole::with(Shared {
            upstream: Some(address),
            decide: Some(Mutex::new(Box::new(decide))),
            ..Shared::default()
        })
    }

    fn with(shared: Shared) -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("the listener's address");
        let shared = Arc::new(shared);
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
                std::thread::spawn(move || serve(stream, &reading));
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

    /// Requests forwarded upstream and answered (`in_front_of` only).
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Requests swallowed or whose answer was lost (`in_front_of` and
    /// `deciding` only: `start`'s are not parsed).
    pub fn swallowed(&self) -> usize {
        self.shared.swallowed.load(Ordering::SeqCst)
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let (Some(upstream), Some(decide)) = (shared.upstream, shared.decide.as_ref()) else {
        return never_answer(stream, shared);
    };
    let Some((head, body)) = read_request(&mut stream, shared) else {
        return;
    };
    let mut words = head.split(' ');
    let method = words.next().unwrap_or_default();
    let path = words.next().unwrap_or_default();
    let seen = Seen {
        method,
        path,
        head: &head,
        body: &body,
    };
    let chunked = seen
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"));
    let fate = if chunked {
        Fate::Swallow
    } else {
        (decide.lock().unwrap_or_else(PoisonError::into_inner))(&seen)
    };
    if fate == Fate::LoseAnswer {
        let _ = forward(upstream, &head, &body);
    }
    if fate != Fate::Forward {
        shared.swallowed.fetch_add(1, Ordering::SeqCst);
        return never_answer(stream, shared);
    }
    if let Some(answer) = forward(upstream, &head, &body) {
        let _ = stream.write_all(&answer);
        shared.forwarded.fetch_add(1, Ordering::SeqCst);
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// One request: its head (without the blank line) and its `Content-Length` body.
fn read_request(stream: &mut TcpStream, shared: &Shared) -> Option<(String, Vec<u8>)> {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 16 * 1024];
    let end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
        shared.bytes.fetch_add(n, Ordering::SeqCst);
        received.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&received[..end]).into_owned();
    let length = head
        .lines()
        .skip(1)
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = received[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
        shared.bytes.fetch_add(n, Ordering::SeqCst);
        body.extend_from_slice(&buffer[..n]);
    }
    Some((head, body))
}

/// Sends the request upstream with `Connection: close`; the whole answer.
fn forward(upstream: SocketAddr, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut request = String::new();
    for line in head.lines() {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            request.push_str(line);
            request.push_str("\r\n");
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut connection = TcpStream::connect(upstream).ok()?;
    connection.write_all(request.as_bytes()).ok()?;
    connection.write_all(body).ok()?;
    let mut answer = Vec::new();
    connection.read_to_end(&mut answer).ok()?;
    Some(answer)
}

/// Reads until the client closes (or the black hole is dropped); never writes.
fn never_answer(mut stream: TcpStream, shared: &Shared) {
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

    /// An upstream that answers every request `200 ok` and closes; and how
    /// many it got.
    fn upstream() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(AtomicUsize::new(0));
        let counting = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut request = Vec::new();
                let mut buffer = [0_u8; 1024];
                while !request.ends_with(b"body") {
                    let n = stream.read(&mut buffer).unwrap();
                    request.extend_from_slice(&buffer[..n]);
                }
                assert!(String::from_utf8_lossy(&request).contains("Connection: close\r\n"));
                counting.fetch_add(1, Ordering::SeqCst);
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .unwrap();
            }
        });
        (address, received)
    }

    fn send(hole: &BlackHole, request: &[u8]) -> String {
        let mut client = TcpStream::connect(hole.address).unwrap();
        client.write_all(request).unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[test]
    fn in_front_of_forwards_all_but_what_it_swallows() {
        let (upstream, received) = upstream();
        let hole = BlackHole::in_front_of(&format!("http://{upstream}"), |seen| seen.is_delete());
        let get = send(
            &hole,
            b"POST /a HTTP/1.1\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nbody",
        );
        assert!(get.ends_with("ok"), "{get}");
        let delete = send(
            &hole,
            b"DELETE /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
        );
        assert_eq!(delete, "", "swallowed");
        let query = send(
            &hole,
            b"POST / HTTP/1.1\r\nContent-Length: 22\r\n\r\nAction=DeleteRole&body",
        );
        assert_eq!(query, "", "swallowed");
        assert_eq!((hole.forwarded(), hole.swallowed()), (1, 2));
        assert_eq!(received.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_lost_answer_reaches_upstream_and_never_comes_back() {
        let (upstream, received) = upstream();
        let hole = BlackHole::deciding(&format!("http://{upstream}"), |_| Fate::LoseAnswer);
        let answer = send(
            &hole,
            b"DELETE /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
        );
        assert_eq!(answer, "");
        assert_eq!(received.load(Ordering::SeqCst), 1, "it was done");
        assert_eq!(hole.swallowed(), 1);
    }
}
