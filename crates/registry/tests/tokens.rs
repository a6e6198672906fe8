//! The token exchange gpubom does itself (so that it can bound it): a registry whose
//! challenge names a token service is pulled from with the token that service grants,
//! asked once for the repository's pull scope and kept while it lives.

use gpubom_registry::Options;
use gpubom_testkit::hostile_http::{LayoutRegistry, Response, Server};
use gpubom_testkit::image::{ImageSpec, Layer};

const TOKEN: &str = "synthetic-token";

#[test]
fn a_registry_with_a_token_service_is_pulled_with_its_token() {
    let dir = tempfile::tempdir().unwrap();
    ImageSpec::new("gpu/app", "v1")
        .layer(Layer::new().file("opt/a.txt", "a"))
        .write_oci_dir(dir.path());
    let layout = LayoutRegistry::new(dir.path(), "gpu/app", "v1");
    let realm = Server::start(|_| {
        Response::new(200).json(&serde_json::json!({"token": TOKEN, "expires_in": 300}))
    });
    let challenge = format!(
        "Bearer realm=\"http://{}/token\",service=\"synthetic\"",
        realm.host()
    );
    let registry = Server::start(move |request| {
        if request.authorization.as_deref() == Some(&format!("Bearer {TOKEN}")) {
            layout.answer(request)
        } else {
            Response::new(401)
                .header("WWW-Authenticate", &challenge)
                .json(&serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": ""}]}))
        }
    });
    let options = Options {
        platform: None,
        plain_http: true,
        credential_hosts: Vec::new(),
        timeout: None,
    };
    let image = gpubom_registry::open(&format!("{}/gpu/app:v1", registry.host()), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.layers.len(), 1);

    let asked = realm.requests();
    assert_eq!(asked.len(), 1, "one token, kept: {asked:?}");
    assert!(
        asked[0]
            .path
            .contains("scope=repository%3Agpu%2Fapp%3Apull")
            && asked[0].path.contains("service=synthetic"),
        "{}",
        asked[0].path
    );
    assert!(asked[0].authorization.is_none(), "no credentials to send");
    let authorized = registry.authorized();
    assert!(authorized >= 2, "{:?}", registry.requests());
}
