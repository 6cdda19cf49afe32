//! A real OAuth 2.0 client library, the `oauth2` crate, against the demo's
//! OAuth routes: `exchange_refresh_token`, `revoke_token`, `introspect`.
//!
//! Its HTTP client is the workspace's reqwest, through the crate's
//! `AsyncHttpClient` (a closure): `oauth2`'s own reqwest feature would
//! bring a second reqwest. `oauth2` refuses a revocation URL that is not
//! `https` (RFC 7009 section 2), so the client is given `https://` URLs
//! and that closure sends them to the server's plain-HTTP listener, as a
//! TLS-terminating proxy in front of it would.

use std::future::Future;
use std::pin::Pin;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AccessToken, ClientId, ClientSecret, HttpRequest, HttpResponse, IntrospectionUrl, RefreshToken,
    RequestTokenError, RevocationUrl, StandardRevocableToken, TokenIntrospectionResponse,
    TokenResponse, TokenUrl,
};

use crate::testing::suite::{ALICE, Agent, Env, INTROSPECTOR, TestServer, native_login, record};

type Sent = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send>>;

/// Sends `oauth2`'s requests with reqwest, `https://` as plain HTTP.
fn transport(client: reqwest::Client) -> impl Fn(HttpRequest) -> Sent {
    move |request: HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string().replacen("https://", "http://", 1);
            let response = client
                .request(parts.method, url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut answer = http_response(response.status().as_u16());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            Ok(answer
                .body(response.bytes().await?.to_vec())
                .expect("a response of parts reqwest accepted"))
        }) as Sent
    }
}

fn http_response(status: u16) -> oauth2::http::response::Builder {
    oauth2::http::Response::builder().status(status)
}

pub async fn a_real_oauth2_client_refreshes_revokes_and_introspects(server: &TestServer, _: &Env) {
    let https = |path: &str| format!("https://{}{path}", server.addr);
    let http = transport(reqwest::Client::new());
    // The native app: a public client, no secret.
    let app = BasicClient::new(ClientId::new("native-app".into()))
        .set_token_uri(TokenUrl::new(https("/oauth/token")).unwrap())
        .set_revocation_url(RevocationUrl::new(https("/oauth/revoke")).unwrap());
    // The resource server, with the introspection credentials.
    let resource_server = BasicClient::new(ClientId::new(INTROSPECTOR.0.into()))
        .set_client_secret(ClientSecret::new(INTROSPECTOR.1.into()))
        .set_introspection_url(IntrospectionUrl::new(https("/oauth/introspect")).unwrap());

    let (_, first) = native_login(server, ALICE).await;
    let first = RefreshToken::new(first);
    let tokens = app
        .exchange_refresh_token(&first)
        .request_async(&http)
        .await
        .expect("the refresh-token grant");
    let access = tokens.access_token().clone();
    let second = tokens.refresh_token().expect("rotated").clone();
    assert_ne!(second.secret(), first.secret());
    assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(900));
    assert_eq!(
        format!("{:?}", tokens.token_type()).to_lowercase(),
        "bearer"
    );

    let mut agent = Agent::new(server);
    agent.access = Some(access.secret().clone());
    let session = agent.session_id().await;
    assert_eq!(record(server, &session).await, (1, false));

    let about = resource_server
        .introspect(&access)
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(about.active());
    assert_eq!(about.sub(), Some("alice"));
    let refresh_as_token = AccessToken::new(second.secret().clone());
    let about_refresh = resource_server
        .introspect(&refresh_as_token)
        .set_token_type_hint("refresh_token")
        .request_async(&http)
        .await
        .unwrap();
    assert!(about_refresh.active());

    // A client with the wrong secret is refused.
    let impostor = BasicClient::new(ClientId::new(INTROSPECTOR.0.into()))
        .set_client_secret(ClientSecret::new("not the secret".into()))
        .set_introspection_url(IntrospectionUrl::new(https("/oauth/introspect")).unwrap());
    let refused = impostor.introspect(&access).request_async(&http).await;
    match refused {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(error.error(), &BasicErrorResponseType::InvalidClient);
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }

    app.revoke_token(StandardRevocableToken::RefreshToken(second.clone()))
        .expect("an https revocation URL")
        .request_async(&http)
        .await
        .expect("revocation");
    assert_eq!(record(server, &session).await, (1, true));
    let gone = resource_server
        .introspect(&access)
        .request_async(&http)
        .await
        .unwrap();
    assert!(!gone.active());
    let refused = app
        .exchange_refresh_token(&second)
        .request_async(&http)
        .await;
    match refused {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(error.error(), &BasicErrorResponseType::InvalidGrant);
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}
