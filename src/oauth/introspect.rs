//! Token introspection (RFC 7662).

use serde::Serialize;

use super::form::TokenForm;
use super::{AuthenticatedClient, OAuthResponse};
use crate::error::Error;
use crate::service::TokenService;
use crate::session::Jkt;
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// What an active token's introspection says (RFC 7662 section 2.2); an
/// inactive one is `{"active": false}` only.
#[derive(Serialize, Default)]
struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// The key a DPoP-bound token's session is bound to (RFC 9449,
    /// section 6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf>,
}

/// `cnf` of a bound token.
#[derive(Serialize)]
struct Cnf {
    jkt: String,
}

impl Cnf {
    fn of(jkt: Option<Jkt>) -> Option<Self> {
        jkt.map(|jkt| Self {
            jkt: jkt.as_str().to_owned(),
        })
    }
}

/// Answers `POST /oauth/introspect` (RFC 7662) for an authenticated
/// caller: `token`, and optionally `token_type_hint`.
///
/// An access token is active when it verifies and its session is live
/// ([`TokenService::verify_live`]: one store read); the answer then
/// carries `token_type: "access_token"`, `sub`, `sid`, `iss`, `aud`, `exp`,
/// `iat`, `jti`, and `scope` when the application's claims have a string
/// `scope`, and `cnf.jkt` for a DPoP-bound token (RFC 9449, section 6.2:
/// the resource server that asks checks the proof). A refresh token is
/// active when it could rotate its session now
/// (the current generation of a live session; a spent one is not, even in
/// the grace window); the answer carries `token_type: "refresh_token"`,
/// `sub`, `sid`, `iss`, `aud`, `exp`, `iat`, and `cnf.jkt` for a bound
/// session. Anything else is
/// `{"active": false}`, with no reason (section 2.2).
///
/// Errors: 400 `invalid_request` for a malformed body, a repeated
/// parameter or no `token`; 503 `temporarily_unavailable` with
/// `Retry-After` when the store failed; 500 `server_error`.
pub async fn introspection_endpoint<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    _caller: &AuthenticatedClient,
    body: &[u8],
) -> OAuthResponse {
    let form = match TokenForm::parse(body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let token = form.token();
    let refresh_first = form.hint() == Some("refresh_token");
    let mut answers = Vec::with_capacity(2);
    for refresh in [refresh_first, !refresh_first] {
        let answer = if refresh {
            refresh_token(service, token).await
        } else {
            access_token(service, token).await
        };
        match answer {
            Ok(active) => return OAuthResponse::json(200, &active),
            Err(error) => answers.push(error),
        }
    }
    match answers.iter().find_map(OAuthResponse::server_side) {
        Some(response) => response,
        None => OAuthResponse::json(200, &Introspection::default()),
    }
}

async fn access_token<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    token: &str,
) -> Result<Introspection, Error> {
    let claims = service.introspect_live(token).await?;
    let scope = serde_json::to_value(&claims.extra)
        .ok()
        .and_then(|extra| extra.get("scope")?.as_str().map(str::to_owned));
    Ok(Introspection {
        active: true,
        token_type: Some("access_token"),
        sub: Some(claims.sub),
        sid: Some(claims.sid.to_string()),
        iss: Some(claims.iss),
        aud: Some(claims.aud),
        exp: Some(claims.exp.unix_timestamp()),
        iat: Some(claims.iat.unix_timestamp()),
        jti: Some(claims.jti),
        scope,
        cnf: Cnf::of(claims.jkt),
    })
}

async fn refresh_token<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    token: &str,
) -> Result<Introspection, Error> {
    let live = service.live_refresh(token).await?;
    let (iss, aud) = service.issuer_and_audience();
    Ok(Introspection {
        active: true,
        token_type: Some("refresh_token"),
        sub: Some(live.subject),
        sid: Some(live.session_id.to_string()),
        iss: Some(iss.to_owned()),
        aud: Some(aud.to_owned()),
        exp: Some(live.expires_at.unix_timestamp()),
        iat: Some(live.issued_at.unix_timestamp()),
        jti: None,
        scope: None,
        cnf: Cnf::of(live.jkt),
    })
}
