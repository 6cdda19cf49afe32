//! [`JwtAuth`]: the session routes as an actix-web `configure` function,
//! and the app data the extractors read.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, PayloadConfig, ServiceConfig};
use actix_web::{HttpRequest, Resource, Route};
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, MAX_BODY_BYTES};
use jwt_rotate::{AppClaims, NoClaims, PurgeTask, RequestHeaders};

use crate::extract::{Authenticated, Installed};
use crate::response::{AuthError, AuthReply};

/// What every route answers: the reply, or the error's.
type Answer = Result<AuthReply, AuthError>;

/// jwt-rotate for an actix-web app: [`configure`](Self::configure) gives
/// the session routes and registers the flow that [`Authenticated`] reads.
/// Cheap to clone: make one, and clone it into `HttpServer::new`'s factory.
///
/// ```
/// use actix_web::{App, web};
/// use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
/// use jwt_rotate::{Key, MemoryStore, NoClaims, TokenService};
/// use jwt_rotate_actix::{Authenticated, JwtAuth};
///
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .build(MemoryStore::new())?;
/// let flow = AuthFlow::builder(service)
///     .credentials(|user: String, password: String| async move {
///         let right = user == "alice" && password == "correct horse";
///         Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
///     })
///     .build()?;
/// let auth = JwtAuth::new(flow);
/// let app = App::new()
///     .route("/me", web::get().to(|Authenticated(me): Authenticated| async move { me.sub }))
///     .configure(auth.configure());
/// # drop(app);
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
#[derive(Debug)]
pub struct JwtAuth<S, C = NoClaims> {
    flow: AuthFlow<S, C>,
}

impl<S, C> Clone for JwtAuth<S, C> {
    fn clone(&self) -> Self {
        Self {
            flow: self.flow.clone(),
        }
    }
}

impl<S: RefreshStore, C: AppClaims> JwtAuth<S, C> {
    /// Over `flow` (see [`AuthFlow::builder`]).
    pub fn new(flow: AuthFlow<S, C>) -> Self {
        Self { flow }
    }

    /// The flow: its service, cookie and throttle, for the app's own
    /// routes.
    pub fn flow(&self) -> &AuthFlow<S, C> {
        &self.flow
    }

    /// The session routes, for `App::configure` or, under a prefix,
    /// `web::scope(prefix).configure` (then give the flow a cookie whose
    /// path covers the prefixed `/auth`):
    ///
    /// `POST /auth/login`, `POST /auth/refresh`, `POST /auth/logout`,
    /// `POST /auth/logout-others`, `GET /sessions`, `DELETE /sessions/{id}`,
    /// `GET /.well-known/jwks.json`; another method on these paths is a
    /// JSON 405. Login bodies over 16 KiB are 413. With the feature
    /// `oauth`, also `POST /oauth/token`, `POST /oauth/revoke` and
    /// `POST /oauth/introspect` (see `AuthFlow::oauth_token` and the next
    /// two; bodies over 16 KiB are 400 `invalid_request`). The throttle counts
    /// guesses per peer address (`HttpRequest::peer_addr`, or what a
    /// trusted proxy forwarded).
    ///
    /// It also registers the flow for [`Authenticated`]: app-wide through
    /// `App::configure`, only inside the scope through `Scope::configure`
    /// (then add [`app_data`](Self::app_data) to the `App` for the routes
    /// outside).
    pub fn configure(&self) -> impl FnOnce(&mut ServiceConfig) + 'static {
        let auth = self.clone();
        move |cfg| {
            let flow = web::Data::new(auth.flow.clone());
            cfg.app_data(auth.app_data())
                .service(
                    resource("/auth/login", web::post().to(login::<S, C>))
                        .app_data(PayloadConfig::new(MAX_BODY_BYTES)),
                )
                .service(resource("/auth/refresh", web::post().to(refresh::<S, C>)))
                .service(resource("/auth/logout", web::post().to(logout::<S, C>)))
                .service(resource(
                    "/auth/logout-others",
                    web::post().to(logout_others::<S, C>),
                ))
                .service(resource("/sessions", web::get().to(sessions::<S, C>)))
                .service(resource(
                    "/sessions/{id}",
                    web::delete().to(revoke_session::<S, C>),
                ))
                .service(resource(
                    "/.well-known/jwks.json",
                    web::get().to(jwks::<S, C>),
                ))
                .configure(crate::oauth::configure::<S, C>)
                .app_data(flow);
        }
    }

    /// The app data [`Authenticated`] finds the flow by, for `App::app_data`
    /// when the routes are mounted in a scope and routes outside it take
    /// the extractor.
    pub fn app_data(&self) -> impl Clone + 'static {
        Installed::<C>(Arc::new(self.flow.clone()))
    }

    /// Deletes dead sessions every `every` in the background (see
    /// [`TokenService::spawn_purge`](jwt_rotate::TokenService::spawn_purge));
    /// call it inside the runtime, e.g. in `#[actix_web::main]`.
    ///
    /// # Errors
    /// [`jwt_rotate::Error::Config`] for a zero interval or outside a tokio
    /// runtime.
    pub fn spawn_purge(&self, every: std::time::Duration) -> Result<PurgeTask, jwt_rotate::Error> {
        self.flow.service().spawn_purge(every)
    }
}

/// One path with one method; any other method gets the JSON 405.
pub(crate) fn resource(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(|| async {
            Err::<AuthReply, _>(AuthError(HttpError::method_not_allowed()))
        }))
}

/// The request's headers as the library reads them; the URI's authority
/// stands in for `Host` on HTTP/2. The method and the whole path (scope
/// prefix included) go with them: a DPoP proof names both.
pub(crate) fn request_headers(req: &HttpRequest) -> RequestHeaders<'_> {
    let headers: RequestHeaders<'_> = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    headers
        .with_authority(req.uri().authority().map(|a| a.as_str().as_bytes()))
        .with_target(req.method().as_str(), req.path())
}

pub(crate) type Flow<S, C> = web::Data<AuthFlow<S, C>>;

async fn login<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> Answer {
    let body = body.map_err(|err| {
        if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::payload_too_large()
        } else {
            HttpError::bad_request()
        }
    })?;
    let peer = req.peer_addr().map(|addr| addr.ip());
    Ok(AuthReply(
        flow.login(&request_headers(&req), peer, &body).await?,
    ))
}

async fn refresh<S: RefreshStore, C: AppClaims>(flow: Flow<S, C>, req: HttpRequest) -> Answer {
    Ok(AuthReply(flow.refresh(&request_headers(&req)).await?))
}

async fn logout<S: RefreshStore, C: AppClaims>(flow: Flow<S, C>, req: HttpRequest) -> Answer {
    Ok(AuthReply(flow.logout(&request_headers(&req)).await?))
}

async fn logout_others<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    Authenticated(caller): Authenticated<C>,
) -> Answer {
    Ok(AuthReply(flow.logout_others(&caller).await?))
}

async fn sessions<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    Authenticated(caller): Authenticated<C>,
) -> Answer {
    Ok(AuthReply(flow.sessions(&caller).await?))
}

async fn revoke_session<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    Authenticated(caller): Authenticated<C>,
    id: web::Path<String>,
) -> Answer {
    Ok(AuthReply(flow.revoke_session(&caller, &id).await?))
}

async fn jwks<S: RefreshStore, C: AppClaims>(flow: Flow<S, C>) -> AuthReply {
    AuthReply(flow.jwks())
}
