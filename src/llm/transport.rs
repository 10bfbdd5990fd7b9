//! The one small HTTP trait the client needs, with a browser implementation (fetch with an
//! AbortController, wasm32 only) and a native one (ureq, blocking inside the async fns).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// An HTTP request. Headers may carry the key: never log or display a request.
#[derive(Clone)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `None` for GET, `Some(json)` for POST.
    pub body: Option<String>,
    /// For a plain call: the whole exchange. For a stream: until the response starts, and
    /// then between chunks.
    pub timeout: Duration,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("headers", &"[not shown]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A response: status, the headers the client reads, and the body (empty for a successful
/// stream, whose body went to the sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Headers the client reads from responses.
pub const READ_HEADERS: [&str; 2] = ["retry-after", "content-type"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    Timeout,
    /// No HTTP answer: refused, DNS, TLS, CORS, or the connection dropped mid-stream.
    Network,
    Cancelled,
}

/// A failure below HTTP. The message never contains request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

/// A cancellation token: the UI cancels when the user stops or leaves. Transports register
/// hooks (the browser's AbortController) and check the flag between chunks.
#[derive(Clone, Default)]
pub struct Cancel(Rc<CancelInner>);

#[derive(Default)]
struct CancelInner {
    cancelled: Cell<bool>,
    hooks: RefCell<Vec<Box<dyn FnOnce()>>>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        if self.0.cancelled.replace(true) {
            return;
        }
        let hooks = std::mem::take(&mut *self.0.hooks.borrow_mut());
        for h in hooks {
            h();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.get()
    }

    /// Runs `hook` on cancellation (at once if already cancelled).
    pub fn on_cancel(&self, hook: impl FnOnce() + 'static) {
        if self.is_cancelled() {
            hook();
        } else {
            self.0.hooks.borrow_mut().push(Box::new(hook));
        }
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cancel({})", self.is_cancelled())
    }
}

/// What the client needs from the platform: HTTP, a sleep, and a clock.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// One request; the whole body is read.
    async fn send(
        &self,
        req: &HttpRequest,
        cancel: &Cancel,
    ) -> Result<HttpResponse, TransportError>;

    /// One request whose successful body is handed to `sink` chunk by chunk as it arrives.
    /// A non-success response is returned whole, with no chunks.
    async fn stream(
        &self,
        req: &HttpRequest,
        cancel: &Cancel,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<HttpResponse, TransportError>;

    async fn sleep(&self, d: Duration);

    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Whether network errors may be CORS refusals (for the error text).
    fn in_browser(&self) -> bool;
}

/// Runs a future to completion on the current thread. Native transports complete without
/// waiting on wakers, so this simply polls; it parks briefly if a future is pending.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeTransport;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::io::Read;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    /// ureq over blocking sockets: for the command-line tool and the native tests.
    #[derive(Debug, Clone, Default)]
    pub struct NativeTransport;

    impl NativeTransport {
        pub fn new() -> NativeTransport {
            NativeTransport
        }

        fn call(
            &self,
            req: &HttpRequest,
            streaming: bool,
        ) -> Result<ureq::http::Response<ureq::Body>, TransportError> {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let map = |e: ureq::Error| map_error(&e);
            macro_rules! configure {
                ($b:expr) => {{
                    let b = $b.config();
                    let b = if streaming {
                        b.timeout_connect(Some(req.timeout))
                            .timeout_recv_response(Some(req.timeout))
                            .timeout_per_read(Some(req.timeout))
                    } else {
                        b.timeout_global(Some(req.timeout))
                    };
                    let mut b = b.build();
                    for (k, v) in &req.headers {
                        b = b.header(k.as_str(), v.as_str());
                    }
                    b
                }};
            }
            match &req.body {
                Some(body) => configure!(agent.post(&req.url))
                    .send(body.as_str())
                    .map_err(map),
                None => configure!(agent.get(&req.url)).call().map_err(map),
            }
        }
    }

    fn map_error(e: &ureq::Error) -> TransportError {
        match e {
            ureq::Error::Timeout(_) => {
                TransportError::new(TransportErrorKind::Timeout, "no answer within the timeout")
            }
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                TransportError::new(TransportErrorKind::Timeout, "no answer within the timeout")
            }
            other => TransportError::new(TransportErrorKind::Network, other.to_string()),
        }
    }

    fn io_error(e: &std::io::Error) -> TransportError {
        let timeout = e.kind() == std::io::ErrorKind::TimedOut
            || e.to_string().to_ascii_lowercase().contains("timeout");
        if timeout {
            TransportError::new(
                TransportErrorKind::Timeout,
                "the reply stopped arriving (timeout)",
            )
        } else {
            TransportError::new(
                TransportErrorKind::Network,
                format!("the connection broke while reading: {e}"),
            )
        }
    }

    fn head(resp: &ureq::http::Response<ureq::Body>) -> HttpResponse {
        HttpResponse {
            status: resp.status().as_u16(),
            headers: READ_HEADERS
                .iter()
                .filter_map(|n| {
                    resp.headers()
                        .get(*n)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| (n.to_string(), v.to_string()))
                })
                .collect(),
            body: String::new(),
        }
    }

    fn cancelled() -> TransportError {
        TransportError::new(TransportErrorKind::Cancelled, "stopped")
    }

    impl Transport for NativeTransport {
        async fn send(
            &self,
            req: &HttpRequest,
            cancel: &Cancel,
        ) -> Result<HttpResponse, TransportError> {
            if cancel.is_cancelled() {
                return Err(cancelled());
            }
            let mut resp = self.call(req, false)?;
            let mut out = head(&resp);
            let mut bytes = Vec::new();
            resp.body_mut()
                .as_reader()
                .read_to_end(&mut bytes)
                .map_err(|e| io_error(&e))?;
            out.body = String::from_utf8_lossy(&bytes).into_owned();
            Ok(out)
        }

        async fn stream(
            &self,
            req: &HttpRequest,
            cancel: &Cancel,
            sink: &mut dyn FnMut(&[u8]),
        ) -> Result<HttpResponse, TransportError> {
            if cancel.is_cancelled() {
                return Err(cancelled());
            }
            let mut resp = self.call(req, true)?;
            let mut out = head(&resp);
            let mut reader = resp.body_mut().as_reader();
            if !out.is_success() {
                let mut bytes = Vec::new();
                reader.read_to_end(&mut bytes).map_err(|e| io_error(&e))?;
                out.body = String::from_utf8_lossy(&bytes).into_owned();
                return Ok(out);
            }
            let mut buf = [0u8; 4096];
            loop {
                if cancel.is_cancelled() {
                    return Err(cancelled());
                }
                match reader.read(&mut buf) {
                    Ok(0) => return Ok(out),
                    Ok(n) => sink(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_error(&e)),
                }
            }
        }

        async fn sleep(&self, d: Duration) {
            std::thread::sleep(d);
        }

        fn now_ms(&self) -> u64 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        }

        fn in_browser(&self) -> bool {
            false
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::BrowserTransport;

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use js_sys::{Promise, Reflect, Uint8Array};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, ReadableStreamDefaultReader, Request, RequestInit, Response};

    use super::*;

    /// fetch() with an AbortController for cancellation and timeouts.
    #[derive(Debug, Clone, Default)]
    pub struct BrowserTransport;

    impl BrowserTransport {
        pub fn new() -> BrowserTransport {
            BrowserTransport
        }
    }

    fn js_text(v: &JsValue) -> String {
        v.as_string()
            .or_else(|| {
                v.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| "the request failed".into())
    }

    /// An armed timer that aborts the controller; re-armed between stream chunks.
    struct Watch {
        controller: AbortController,
        timed_out: Rc<Cell<bool>>,
        handle: Cell<Option<i32>>,
        _closure: Closure<dyn FnMut()>,
        timeout_ms: i32,
    }

    impl Watch {
        fn new(timeout: Duration, cancel: &Cancel) -> Result<Watch, TransportError> {
            let controller = AbortController::new()
                .map_err(|e| TransportError::new(TransportErrorKind::Network, js_text(&e)))?;
            let timed_out = Rc::new(Cell::new(false));
            let (c, t) = (controller.clone(), timed_out.clone());
            let closure = Closure::<dyn FnMut()>::new(move || {
                t.set(true);
                c.abort();
            });
            let c2 = controller.clone();
            cancel.on_cancel(move || c2.abort());
            let w = Watch {
                controller,
                timed_out,
                handle: Cell::new(None),
                _closure: closure,
                timeout_ms: timeout.as_millis().min(i32::MAX as u128) as i32,
            };
            w.arm();
            Ok(w)
        }

        fn arm(&self) {
            let Some(window) = web_sys::window() else {
                return;
            };
            if let Some(h) = self.handle.take() {
                window.clear_timeout_with_handle(h);
            }
            let h = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    self._closure.as_ref().unchecked_ref(),
                    self.timeout_ms,
                )
                .ok();
            self.handle.set(h);
        }

        fn error(&self, cancel: &Cancel, e: &JsValue) -> TransportError {
            if self.timed_out.get() {
                TransportError::new(TransportErrorKind::Timeout, "no answer within the timeout")
            } else if cancel.is_cancelled() {
                TransportError::new(TransportErrorKind::Cancelled, "stopped")
            } else {
                TransportError::new(TransportErrorKind::Network, js_text(e))
            }
        }
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            if let (Some(h), Some(window)) = (self.handle.take(), web_sys::window()) {
                window.clear_timeout_with_handle(h);
            }
        }
    }

    async fn start(
        req: &HttpRequest,
        cancel: &Cancel,
    ) -> Result<(Watch, Response, HttpResponse), TransportError> {
        if cancel.is_cancelled() {
            return Err(TransportError::new(
                TransportErrorKind::Cancelled,
                "stopped",
            ));
        }
        let watch = Watch::new(req.timeout, cancel)?;
        let init = RequestInit::new();
        init.set_method(if req.body.is_some() { "POST" } else { "GET" });
        let headers = web_sys::Headers::new().map_err(|e| watch.error(cancel, &e))?;
        for (k, v) in &req.headers {
            headers.set(k, v).map_err(|e| watch.error(cancel, &e))?;
        }
        init.set_headers(&headers);
        if let Some(body) = &req.body {
            init.set_body(&JsValue::from_str(body));
        }
        init.set_signal(Some(&watch.controller.signal()));
        let request =
            Request::new_with_str_and_init(&req.url, &init).map_err(|e| watch.error(cancel, &e))?;
        let window = web_sys::window()
            .ok_or_else(|| TransportError::new(TransportErrorKind::Network, "no window"))?;
        let resp: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|e| watch.error(cancel, &e))?
            .dyn_into()
            .map_err(|e| watch.error(cancel, &e))?;
        let head = HttpResponse {
            status: resp.status(),
            headers: READ_HEADERS
                .iter()
                .filter_map(|n| {
                    resp.headers()
                        .get(n)
                        .ok()
                        .flatten()
                        .map(|v| (n.to_string(), v))
                })
                .collect(),
            body: String::new(),
        };
        Ok((watch, resp, head))
    }

    async fn text(
        watch: &Watch,
        cancel: &Cancel,
        resp: &Response,
    ) -> Result<String, TransportError> {
        let promise = resp.text().map_err(|e| watch.error(cancel, &e))?;
        let v = JsFuture::from(promise)
            .await
            .map_err(|e| watch.error(cancel, &e))?;
        Ok(v.as_string().unwrap_or_default())
    }

    impl Transport for BrowserTransport {
        async fn send(
            &self,
            req: &HttpRequest,
            cancel: &Cancel,
        ) -> Result<HttpResponse, TransportError> {
            let (watch, resp, mut head) = start(req, cancel).await?;
            head.body = text(&watch, cancel, &resp).await?;
            Ok(head)
        }

        async fn stream(
            &self,
            req: &HttpRequest,
            cancel: &Cancel,
            sink: &mut dyn FnMut(&[u8]),
        ) -> Result<HttpResponse, TransportError> {
            let (watch, resp, mut head) = start(req, cancel).await?;
            if !head.is_success() {
                head.body = text(&watch, cancel, &resp).await?;
                return Ok(head);
            }
            let Some(body) = resp.body() else {
                return Ok(head);
            };
            let reader: ReadableStreamDefaultReader = body
                .get_reader()
                .dyn_into()
                .map_err(|e| watch.error(cancel, &e))?;
            loop {
                watch.arm();
                let chunk = JsFuture::from(reader.read())
                    .await
                    .map_err(|e| watch.error(cancel, &e))?;
                let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                    .ok()
                    .and_then(|d| d.as_bool())
                    .unwrap_or(true);
                if done {
                    return Ok(head);
                }
                if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
                    if let Ok(bytes) = value.dyn_into::<Uint8Array>() {
                        sink(&bytes.to_vec());
                    }
                }
            }
        }

        async fn sleep(&self, d: Duration) {
            let ms = d.as_millis().min(i32::MAX as u128) as i32;
            let promise = Promise::new(&mut |resolve, _| {
                if let Some(w) = web_sys::window() {
                    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
                }
            });
            let _ = JsFuture::from(promise).await;
        }

        fn now_ms(&self) -> u64 {
            js_sys::Date::now() as u64
        }

        fn in_browser(&self) -> bool {
            true
        }
    }
}
