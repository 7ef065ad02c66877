package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// issuer is a local OIDC provider: discovery document and JWKS over HTTP.
func issuer(t *testing.T) (*httptest.Server, func(claims map[string]any) string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ts.URL, "jwks_uri": ts.URL + "/jwks",
				"authorization_endpoint": ts.URL + "/auth", "id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/jwks":
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(claims map[string]any) string {
		base := map[string]any{"iss": ts.URL, "aud": "rag-api", "sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
		for k, v := range claims {
			base[k] = v
		}
		s, err := jwt.Signed(sig).Claims(base).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return ts, sign
}

func TestOIDCGroups(t *testing.T) {
	ts, sign := issuer(t)
	defer ts.Close()
	o, err := New(context.Background(), ts.URL, "rag-api", "cognito:groups")
	if err != nil {
		t.Fatal(err)
	}
	req := func(auth string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/ask", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	sub, groups, err := o.Groups(req("Bearer " + sign(map[string]any{"cognito:groups": []string{"hr", "all"}})))
	if err != nil || sub != "u1" || strings.Join(groups, ",") != "hr,all" {
		t.Fatalf("%q %v %v", sub, groups, err)
	}
	cases := map[string]string{
		"":                 "missing bearer token",
		"Basic abc":        "missing bearer token",
		"Bearer not-a-jwt": "invalid bearer token",
		"Bearer " + sign(map[string]any{"aud": "other"}):                           "invalid bearer token",
		"Bearer " + sign(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}): "expired",
		"Bearer " + sign(map[string]any{"cognito:groups": 5}):                      "want a list",
	}
	for auth, want := range cases {
		if _, _, err := o.Groups(req(auth)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.30q: err %v, want %q", auth, err, want)
		}
	}
}
