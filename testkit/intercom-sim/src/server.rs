//! The HTTP server: routes, the API middleware (latency, auth, version, rate limit, faults, request log,
//! rate-limit headers) and a hyper accept loop that can drop a connection without answering.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::errors::ApiError;
use crate::ratelimit::Decision;
use crate::routes::{
    admins, articles, attributes, companies, contacts, conversations, parts, sim, tags,
};
use crate::state::{Shared, now};

/// Marker put in a response's extensions: drop the connection instead of sending it.
#[derive(Debug, Clone, Copy)]
pub struct ResetConnection;

/// The error handed to hyper to make it close the connection without a response.
#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by reset-after-apply fault")
    }
}
impl std::error::Error for Dropped {}

/// True for requests that change state (logged in `requests`, eligible for `reset-after-apply`).
pub fn is_state_changing(method: &Method, path: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    ) && !path.ends_with("/search")
}

/// Build the router (Intercom API + `/_sim/` control endpoints).
pub fn router(app: Shared) -> Router {
    let api = Router::new()
        .route("/me", get(admins::me))
        .route("/admins", get(admins::list))
        .route("/admins/{id}", get(admins::get_one))
        .route("/teams", get(admins::teams))
        .route(
            "/data_attributes",
            get(attributes::list_data).post(attributes::create_data),
        )
        .route("/data_attributes/{id}", put(attributes::update_data))
        .route(
            "/conversations/attributes",
            get(attributes::list_conv).post(attributes::create_conv),
        )
        .route(
            "/conversations/attributes/{id}",
            delete(attributes::archive_conv),
        )
        .route("/companies", get(companies::lookup).post(companies::upsert))
        .route(
            "/companies/{id}",
            get(companies::get_one)
                .put(companies::update)
                .delete(companies::remove),
        )
        .route(
            "/companies/{id}/notes",
            get(companies::list_company_notes).post(companies::add_note),
        )
        .route("/contacts", post(contacts::create))
        .route("/contacts/search", post(contacts::search))
        .route(
            "/contacts/find_by_external_id/{external_id}",
            get(contacts::find_by_external_id),
        )
        .route(
            "/contacts/{id}",
            get(contacts::get_one)
                .put(contacts::update)
                .delete(contacts::remove),
        )
        .route("/contacts/{id}/companies", post(contacts::attach_company))
        .route(
            "/contacts/{id}/companies/{company_id}",
            delete(contacts::detach_company),
        )
        .route(
            "/contacts/{id}/notes",
            get(contacts::list_notes_of).post(contacts::add_note),
        )
        .route("/contacts/{id}/tags", post(contacts::add_tag))
        .route("/contacts/{id}/tags/{tag_id}", delete(contacts::remove_tag))
        .route("/contacts/{id}/archive", post(contacts::archive))
        .route("/contacts/{id}/unarchive", post(contacts::unarchive))
        .route(
            "/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route("/conversations/search", post(conversations::search))
        .route(
            "/conversations/{id}",
            get(conversations::get_one)
                .put(conversations::update)
                .delete(conversations::remove),
        )
        .route("/conversations/{id}/reply", post(parts::reply))
        .route("/conversations/{id}/parts", post(parts::manage))
        .route("/conversations/{id}/tags", post(conversations::add_tag))
        .route(
            "/help_center/collections",
            get(articles::list_collections).post(articles::create_collection),
        )
        .route(
            "/help_center/collections/{id}",
            get(articles::get_collection)
                .put(articles::update_collection)
                .delete(articles::delete_collection),
        )
        .route(
            "/articles",
            get(articles::list_articles).post(articles::create_article),
        )
        .route(
            "/articles/{id}",
            get(articles::get_article)
                .put(articles::update_article)
                .delete(articles::delete_article),
        )
        .route("/tags", get(tags::list).post(tags::create_or_apply))
        .fallback(unknown)
        .method_not_allowed_fallback(unknown)
        .layer(from_fn_with_state(app.clone(), api_middleware));
    Router::new()
        .route("/_sim/state", get(sim::state))
        .route("/_sim/reset", post(sim::reset))
        .route("/_sim/faults", get(sim::get_faults).post(sim::set_faults))
        .merge(api)
        .layer(DefaultBodyLimit::max(app.cfg.max_body_bytes))
        .with_state(app)
}

/// Intercom answers 404 for unknown paths and unsupported methods.
async fn unknown() -> ApiError {
    ApiError::not_found("Resource Not Found")
}

fn add_rate_headers(resp: &mut Response, d: &Decision) {
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(d.reset));
}

/// The method as a `'static` name for the request log (the log is kept without per-entry allocations).
fn method_name(m: &Method) -> &'static str {
    match *m {
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::GET => "GET",
        _ => "OTHER",
    }
}

async fn api_middleware(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let changing = is_state_changing(&method, &path);
    let log = |status: u16, fault: Option<&'static str>| {
        if changing {
            app.ws()
                .log_request(method_name(&method), &path, status, fault);
        }
    };
    let latency = app.faults().latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Err(e) = crate::auth::check_token(req.headers(), &app.cfg.token) {
        log(401, None);
        return e.into_response();
    }
    if app.faults().token_revoked() {
        log(401, Some("revoke-token-after"));
        return ApiError::unauthorized().into_response();
    }
    let t = now();
    let (storm, no_headers) = {
        let f = app.faults();
        (f.storm_reset(t), f.no_headers())
    };
    let decision = {
        let mut l = app.limiter();
        match storm {
            Some(reset) => Some(Decision {
                allowed: false,
                limit: l.limit(),
                remaining: 0,
                reset,
            }),
            None if l.enabled() => Some(l.check(t)),
            None => None,
        }
    };
    let finish = |mut resp: Response| {
        if let (Some(d), false) = (&decision, no_headers) {
            add_rate_headers(&mut resp, d);
        }
        resp
    };
    if let Some(d) = decision.filter(|d| !d.allowed) {
        log(429, storm.map(|_| "429-storm"));
        let msg = format!("Exceeded rate limit of {} in 10_seconds", d.limit);
        return finish(
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", msg)
                .into_response(),
        );
    }
    if let Err(e) = crate::auth::check_version(req.headers()) {
        log(400, None);
        return finish(e.into_response());
    }
    let server_error = app.faults().roll_5xx();
    if let Some(code) = server_error {
        log(code, Some("5xx"));
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (c, m) = if code == 503 {
            ("service_unavailable", "Service Unavailable")
        } else {
            ("server_error", "Server Error")
        };
        return finish(ApiError::new(status, c, m).into_response());
    }
    let mut resp = next.run(req).await;
    let status = resp.status();
    if changing && status.is_success() {
        app.faults().count_change();
    }
    let reset = changing && status.is_success() && app.faults().roll_reset();
    log(status.as_u16(), reset.then_some("reset-after-apply"));
    if reset {
        resp.extensions_mut().insert(ResetConnection);
    }
    finish(resp)
}

/// Serve `router` on `listener` until `shutdown` resolves. Each connection is HTTP/1.1 with keep-alive;
/// a response marked [`ResetConnection`] makes hyper drop the connection without writing anything.
///
/// # Errors
/// Accept failures.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_transient(&e) => { tokio::time::sleep(Duration::from_millis(5)).await; continue }
                Err(e) => return Err(e),
            },
            _ = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let resp = match router.oneshot(req).await {
                            Ok(r) => r,
                            Err(never) => match never {},
                        };
                        if resp.extensions().get::<ResetConnection>().is_some() {
                            return Err(Dropped);
                        }
                        Ok(resp)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || e.raw_os_error().is_some_and(|c| c == 24 || c == 23) // EMFILE / ENFILE: keep serving
}
