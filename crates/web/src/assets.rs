//! Static files embedded in the binary: htmx (vendored from its npm package, pinned), Swagger UI
//! for the API docs, and Caredesk's own stylesheet and scripts. Nothing is fetched at run time.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript",
        bytes: include_bytes!("../assets/vendor/htmx-2.0.11.min.js"),
    },
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript",
        bytes: include_bytes!("../assets/vendor/swagger-ui-bundle-5.35.0.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css",
        bytes: include_bytes!("../assets/vendor/swagger-ui-5.35.0.css"),
    },
    Asset { name: "app.css", content_type: "text/css", bytes: include_bytes!("../assets/app.css") },
    Asset { name: "app.js", content_type: "text/javascript", bytes: include_bytes!("../assets/app.js") },
    Asset { name: "theme.js", content_type: "text/javascript", bytes: include_bytes!("../assets/theme.js") },
    Asset { name: "docs.js", content_type: "text/javascript", bytes: include_bytes!("../assets/docs.js") },
    Asset {
        name: "contact-timer.js",
        content_type: "text/javascript",
        bytes: include_bytes!("../assets/contact-timer.js"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../assets/favicon.svg") },
];

/// `GET /assets/{name}`.
pub async fn serve(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// `GET /api/docs`: Swagger UI over `/api/v1/openapi.json`, served from embedded files.
pub async fn api_docs() -> Html<&'static str> {
    Html(include_str!("../assets/docs.html"))
}

pub fn names() -> Vec<&'static str> {
    ASSETS.iter().map(|a| a.name).collect()
}
