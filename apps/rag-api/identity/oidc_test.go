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
				"authorization_endpoint": ts.URL + "/auth", "token_endpoint": ts.URL + "/token", "id_token_signing_alg_values_supported": []string{"RS256"}})
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
			if v == nil {
				delete(base, k)
				continue
			}
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

func TestOIDCIdentify(t *testing.T) {
	ts, sign := issuer(t)
	defer ts.Close()
	if _, err := New(context.Background(), Config{Issuer: ts.URL}); err == nil || !strings.Contains(err.Error(), "--oidc-audience is required") {
		t.Fatalf("no audience: %v", err)
	}
	o, err := New(context.Background(), Config{Issuer: ts.URL, Audience: "rag-api", GroupsClaim: "cognito:groups"})
	if err != nil {
		t.Fatal(err)
	}
	if ep := o.Endpoints(); ep.Authorization != ts.URL+"/auth" || ep.Token != ts.URL+"/token" {
		t.Errorf("endpoints %+v", ep)
	}
	req := func(auth string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/ask", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	p, err := o.Identify(req("Bearer " + sign(map[string]any{"cognito:groups": []string{"hr", "all"}, "email": "kim@unsilo.example"})))
	if err != nil || p.Subject != "u1" || p.UserID != "kim@unsilo.example" || strings.Join(p.Groups, ",") != "hr,all" {
		t.Fatalf("%+v %v", p, err)
	}
	// A Cognito access token: no aud, client_id names the app.
	p, err = o.Identify(req("Bearer " + sign(map[string]any{"aud": nil, "client_id": "rag-api", "token_use": "access"})))
	if err != nil || p.Subject != "u1" {
		t.Fatalf("access token: %+v %v", p, err)
	}
	cases := []struct {
		auth, want, reason string
	}{
		{"", "missing bearer token", "no header"},
		{"Basic abc", "missing bearer token", "another scheme"},
		{"Bearer not-a-jwt", "invalid bearer token", "garbage"},
		{"Bearer " + sign(map[string]any{"aud": "other-app"}), "issued to other-app, not to rag-api", "a token of another client of the same issuer"},
		{"Bearer " + sign(map[string]any{"aud": []string{"a", "b"}}), "not to rag-api", "several audiences, none ours"},
		{"Bearer " + sign(map[string]any{"aud": nil, "client_id": "other-app"}), "names no audience", "an access token of another client"},
		{"Bearer " + sign(map[string]any{"aud": nil}), "names no audience", "no audience at all"},
		{"Bearer " + sign(map[string]any{"aud": "other-app", "client_id": "rag-api"}), "not to rag-api", "aud wins over client_id"},
		{"Bearer " + sign(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), "expired", "expired"},
		{"Bearer " + sign(map[string]any{"cognito:groups": 5}), "want a list", "malformed groups"},
		{"Bearer " + sign(map[string]any{"cognito:groups": []any{"hr", 5}}), "want a list", "a non-string group"},
	}
	for _, c := range cases {
		if _, err := o.Identify(req(c.auth)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.reason, err, c.want)
		}
	}
}
