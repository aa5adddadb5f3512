//! Route declaration. A module adds each route with the access it needs; the same call records
//! the route in a table, so enforcement (the auth guard reads the table) and the role-walking
//! test can never disagree with what was declared.

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use http::Method;
use kernel::Permission;

/// Whether a path belongs to the JSON API (answered with problems, never pages or redirects).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/v1/")
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; unsafe methods must carry the double-submit CSRF token.
    Public,
    /// Anyone; a JSON-only API route that uses no cookies, so no CSRF token is needed.
    PublicApi,
    /// A signed-in staff user whose role grants the permission.
    Signed(Permission),
}

#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

impl RouteInfo {
    pub fn is_api(&self) -> bool {
        is_api_path(self.path)
    }
}

/// A router under construction plus the table of what it holds.
pub struct Routes {
    pub router: Router<AppState>,
    pub table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes { router: Router::new(), table: Vec::new() }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::PATCH => MethodFilter::PATCH,
            Method::DELETE => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        self.router = self.router.route(path, on(filter, handler));
        self.table.push(RouteInfo { method, path, access });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::GET, path, access, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::POST, path, access, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::PUT, path, access, handler)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::PATCH, path, access, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::DELETE, path, access, handler)
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }
}
