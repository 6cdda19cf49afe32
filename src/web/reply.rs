//! [`Reply`]: a framework-neutral HTTP answer, for the glue to copy into
//! its framework's response.

use serde::Serialize;

/// An answer: status, headers (names in lowercase) and a JSON body, or no
/// body. `Debug` leaves the body and `set-cookie` out: they hold tokens.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order; `set-cookie` may appear more than once.
    pub headers: Vec<(&'static str, String)>,
    /// The body: JSON, or what `content-type` says (a status list token),
    /// or empty.
    pub body: String,
}

impl Reply {
    /// `status` with `body` as JSON and `content-type: application/json`.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        let body =
            serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":"server_error"}"#.into());
        Self {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body,
        }
    }

    /// `status` with no body (e.g. 204).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds headers.
    pub fn with_headers(
        mut self,
        headers: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Self {
        self.headers.extend(headers);
        self
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}
