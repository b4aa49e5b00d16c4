//! One error type for every handler and store function. HTML handlers render it as the error
//! page; the JSON API wraps it (`api::ApiError`) to render `{"error", "fields"}` instead.

use crate::i18n::{Lang, Msg};

/// Field-level validation errors, in input order, each naming its field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(&'static str, Msg)>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> FieldErrors {
        FieldErrors(Vec::new())
    }

    /// Records an error for `field`.
    pub fn add(&mut self, field: &'static str, msg: Msg) {
        self.0.push((field, msg));
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first error recorded for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&Msg> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    /// Each field with its message in `lang`, for a form or an error body.
    pub fn render(&self, lang: Lang) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(f, m)| ((*f).to_owned(), m.render(lang)))
            .collect()
    }

    /// A required text field: trimmed; an error if empty or longer than `max` characters.
    pub fn required_text(&mut self, field: &'static str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.add(field, Msg::new("error.field.required"));
        } else if v.chars().count() > max {
            self.add(field, Msg::new("error.field.too_long").with("max", max));
        }
        v.to_owned()
    }

    /// A required date (`YYYY-MM-DD`); `NaiveDate::MIN` stands in for a bad one.
    pub fn required_date(&mut self, field: &'static str, value: &str) -> chrono::NaiveDate {
        match value.trim() {
            "" => {
                self.add(field, Msg::new("error.field.required"));
                chrono::NaiveDate::MIN
            }
            v => self
                .optional_date(field, v)
                .unwrap_or(chrono::NaiveDate::MIN),
        }
    }

    /// An optional date (`YYYY-MM-DD`), `None` when empty or bad.
    pub fn optional_date(&mut self, field: &'static str, value: &str) -> Option<chrono::NaiveDate> {
        match value.trim() {
            "" => None,
            v => v.parse().map(Some).unwrap_or_else(|_| {
                self.add(field, Msg::new("error.field.date"));
                None
            }),
        }
    }

    /// A whole number from `min` to `max`; `min` stands in for a bad one.
    pub fn whole_number(&mut self, field: &'static str, value: &str, min: i64, max: i64) -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                self.add(
                    field,
                    Msg::new("error.field.range")
                        .with("min", min)
                        .with("max", max),
                );
                min
            }
        }
    }

    /// `Ok(value)` when empty, else `Err(Error::Invalid)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Error> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(Error::Invalid(self))
        }
    }
}

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist (or is outside the caller's scope: the two look the
    /// same, so scope does not leak through error messages).
    #[error("not found")]
    NotFound,
    /// Not signed in.
    #[error("unauthorized")]
    Unauthorized,
    /// Signed in but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// The input is wrong; each field says how.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The action conflicts with the current state (e.g. someone else changed the record).
    #[error("conflict")]
    Conflict(Msg),
    /// Too many requests from one caller; try again after this many seconds.
    #[error("rate limited")]
    TooManyRequests(u64),
    /// The request itself cannot be read (text that is not UTF-8, control characters, a body
    /// over the limit, a path part that is not a number…): refused with this status.
    #[error("unreadable request")]
    Unreadable(axum::http::StatusCode, Msg),
    /// A database failure.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Anything else unexpected.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An `Invalid` error about one field.
    pub fn field(field: &'static str, msg: Msg) -> Error {
        let mut errors = FieldErrors::new();
        errors.add(field, msg);
        Error::Invalid(errors)
    }
}

/// Result with the app's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Unreadable(status, _) => *status,
            _ if self.is_busy() => StatusCode::SERVICE_UNAVAILABLE,
            Error::Db(_) | Error::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True when the database was too busy to answer in time — a writer waited for the write
    /// lock longer than [`crate::db::WRITE_WAIT`], or no connection came free — so the same
    /// request may simply be sent again.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Db(sqlx::Error::PoolTimedOut) => true,
            Error::Db(sqlx::Error::Database(e)) => {
                if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // lock_not_available: `lock_timeout` ran out.
                    pg.code() == "55P03"
                } else if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // SQLITE_BUSY or SQLITE_LOCKED, in any of their extended forms.
                    e.code()
                        .and_then(|c| c.parse::<u32>().ok())
                        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    false
                }
            }
            _ => false,
        }
    }

    /// The one-line message a user reads; internals are logged, never shown.
    pub fn message(&self) -> Msg {
        match self {
            Error::NotFound => Msg::new("error.not_found"),
            Error::Unauthorized => Msg::new("error.unauthorized"),
            Error::Forbidden => Msg::new("error.forbidden"),
            Error::Invalid(_) => Msg::new("error.invalid"),
            Error::Conflict(msg) | Error::Unreadable(_, msg) => msg.clone(),
            Error::TooManyRequests(seconds) => {
                Msg::new("error.too_many_requests").with("seconds", *seconds)
            }
            _ if self.is_busy() => Msg::new("error.busy"),
            Error::Db(_) | Error::Other(_) => Msg::new("error.internal"),
        }
    }

    /// [`Error::message`] in `lang`.
    pub fn user_message(&self, lang: Lang) -> String {
        self.message().render(lang)
    }

    /// Logs server-side failures once, where they are turned into a response.
    pub fn log(&self) {
        if self.is_busy() {
            tracing::warn!(error = %self, "database busy: asked the client to try again");
        } else if matches!(self, Error::Db(_) | Error::Other(_)) {
            tracing::error!(error = %self, "request failed");
        }
    }
}
