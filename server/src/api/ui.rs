//! The board UI: the files of `frontend/dist` (built by `npm run build:ui`), served at `/`.
//! A release build carries them inside the binary; a debug build reads the folder at each
//! request, so a rebuilt UI shows without recompiling. Any other path that is not under `/api`
//! answers `index.html`, since the UI routes in the browser.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;

#[derive(rust_embed::Embed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Dist;

/// What the UI's pages may load: only this server's own scripts, styles, images and API.
const UI_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'";

/// Whether this build has the board UI (a release build without `frontend/dist` at compile
/// time, or a debug build before `npm run build:ui`, has none).
pub fn built() -> bool {
    Dist::get("index.html").is_some()
}

pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found_route().into_response();
    }
    if !state.serve_ui {
        return not_here("the board UI is turned off on this server (SERVE_UI / server.serveUi)");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} is not allowed here: the board UI is read with GET",
                req.method()
            ),
        )
        .into_response();
    }
    let name = path.trim_start_matches('/');
    // Vite names every built asset by its content, so a browser may keep it for good; the page
    // itself is asked again each time so a new build is picked up.
    if let Some(file) = (!name.is_empty()).then(|| Dist::get(name)).flatten() {
        let cache = if name.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return file_response(file, cache);
    }
    if name.starts_with("assets/") {
        return not_here("no such file in this build of the board UI");
    }
    match Dist::get("index.html") {
        Some(page) => file_response(page, "no-cache"),
        None => not_here(
            "the board UI is not part of this build: run `npm ci && npm run build:ui`, then build the server again; the API is under /api",
        ),
    }
}

fn file_response(file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, mime);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(UI_CSP),
    );
    response
}

fn not_here(message: &str) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Not found: {message}"),
    )
    .into_response()
}
