//! The whole session flow on actix-web and PostgreSQL: login with a
//! password check, cookie refresh, a protected route, logout, log out
//! everywhere else, device list, JWKS. `DATABASE_URL=postgres://... cargo
//! run -p jwt-rotate-actix --example service`, then `POST /auth/login` with
//! `{"username": "alice", "password": "correct horse battery staple"}`.
use actix_web::{App, HttpServer, web};
use jwt_rotate::store::PostgresStore;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
use jwt_rotate::{Algorithm, CookieSecurity, Key, NoClaims, RefreshCookie, TokenService};
use jwt_rotate_actix::{Authenticated, JwtAuth};

/// The user table: a real app compares salted password hashes (argon2).
fn user_with(name: &str, password: &str) -> Option<String> {
    let known = name == "alice" && password == "correct horse battery staple";
    known.then(|| name.to_owned())
}

async fn me(Authenticated(claims): Authenticated) -> String {
    format!("hello {}", claims.sub)
}

async fn auth(database_url: &str) -> Result<JwtAuth<PostgresStore>, jwt_rotate::Error> {
    let store = PostgresStore::connect(database_url).await?;
    store.migrate().await?;
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("https://api.example.com")
        .access_key(Key::from_env("ACCESS_KEY").or_else(|_| Key::generate(Algorithm::EdDSA))?)
        .refresh_key(Key::from_env("REFRESH_KEY").or_else(|_| Key::generate(Algorithm::HS256))?)
        .build(store)?;
    let check = |name: String, password: String| async move {
        let user = user_with(&name, &password);
        Ok::<_, CredentialsError>(user.map(|subject| Login::new(subject, NoClaims {})))
    };
    let cookie = RefreshCookie::builder().security(CookieSecurity::InsecureLocalhost);
    let flow = AuthFlow::builder(service)
        .credentials(check)
        .cookie(cookie.build()?)
        .build()?;
    Ok(JwtAuth::new(flow))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = auth(&std::env::var("DATABASE_URL")?).await?;
    let _purge = auth.spawn_purge(std::time::Duration::from_secs(3600))?;
    HttpServer::new(move || {
        App::new()
            .route("/me", web::get().to(me))
            .configure(auth.configure())
    })
    .bind("127.0.0.1:3000")?
    .run()
    .await?;
    Ok(())
}
