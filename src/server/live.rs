//! `GET /events`: server-sent events for the signed-in user (SPEC §12): `event:` the kind of
//! change, `data:` `{"candidate_id": …}`, `id:` for `Last-Event-ID` on reconnect; `reset` when
//! changes were missed. What is sent and to whom: services::events.
use crate::server::auth::SignedIn;
use crate::server::services;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::time::Duration;

/// A comment line this often keeps proxies and load balancers from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

pub async fn events(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Response {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let stream = services::events::stream(state, user, last).await.map(|o| {
        let event = Event::default().event(o.event).data(o.data);
        Ok::<_, std::convert::Infallible>(match o.id {
            Some(id) => event.id(id.to_string()),
            None => event,
        })
    });
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response();
    // nginx and others buffer responses unless told not to.
    res.headers_mut()
        .insert("x-accel-buffering", http::HeaderValue::from_static("no"));
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    res
}
