//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// issuer runs mockoidc (oauth2-proxy's OIDC test provider: discovery, JWKS,
// authorization code with PKCE S256, RS256 tokens). Two adaptations make it
// behave like the public SPA client a Cognito or Keycloak app client is:
// the token endpoint answers cross-origin requests from the UI's origin, and
// the client secret a public client does not have is supplied for it.
func issuer(t *testing.T, user *mockoidc.MockUser) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Vary", "Origin")
			}
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, mockoidc.TokenEndpoint) {
				b, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(b))
				if form.Get("code_verifier") == "" {
					http.Error(w, `{"error":"invalid_request","error_description":"PKCE code_verifier required"}`, http.StatusBadRequest)
					return
				}
				form.Set("client_secret", m.ClientSecret)
				enc := form.Encode()
				r.Body = io.NopCloser(bytes.NewBufferString(enc))
				r.ContentLength = int64(len(enc))
				r.Header.Set("Content-Length", strconv.Itoa(len(enc)))
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.QueueUser(user)
	return m
}

// TestLoginWithPKCE: with OIDC on, the UI logs in through the issuer
// (authorization code + PKCE), sends the token, and the answers follow the
// user's groups: an HR member finds the HR-only document anonymous users
// never see; without a token the API refuses.
func TestLoginWithPKCE(t *testing.T) {
	m := issuer(t, &mockoidc.MockUser{Subject: "kim", Email: "kim@unsilo.example", PreferredUsername: "kim", Groups: []string{"hr"}, EmailVerified: true})
	srv := startServer(t, "--oidc-issuer", m.Issuer(), "--oidc-audience", m.ClientID, "--oidc-groups-claim", "groups",
		"--oidc-ui-token", "id_token", "--oidc-ui-scopes", "openid email profile groups")
	ctx := browser(t)
	var before, after, user, answer, sources, unauth string
	var submitDisabled bool
	var shot []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#login", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("submit").disabled`, &submitDisabled),
		chromedp.Location(&before),
		chromedp.Evaluate(`fetch("v1/search",{method:"POST",body:JSON.stringify({query:"급여"})}).then(r=>r.status+" "+r.headers.get("WWW-Authenticate"))`, &unauth, awaitPromise),
		chromedp.Click("#login", chromedp.ByQuery),
		chromedp.WaitVisible("#logout", chromedp.ByQuery),
		chromedp.Location(&after),
		chromedp.Text("#user", &user, chromedp.ByQuery),
		chromedp.SendKeys("#question", "신입 연봉 테이블은 어디에 있나요?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.turn[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text(".turn .answer", &answer, chromedp.ByQuery),
		chromedp.Text(".turn .sources", &sources, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !submitDisabled {
		t.Error("asking was possible before logging in")
	}
	if !strings.HasPrefix(unauth, "401") || !strings.Contains(unauth, "Bearer") {
		t.Errorf("API without a token: %q", unauth)
	}
	if strings.Contains(after, "code=") || strings.TrimSuffix(after, "/") != strings.TrimSuffix(before, "/") {
		t.Errorf("after login the URL is %q (the code must not linger)", after)
	}
	if !strings.Contains(user, "kim") {
		t.Errorf("logged-in user shown as %q", user)
	}
	if !strings.Contains(answer, "연봉 테이블") || !strings.Contains(sources, "급여 테이블") {
		t.Errorf("an HR member does not get the HR-only document: answer %q, sources %q", answer, sources)
	}
	checkScreenshot(t, "login.png", shot)
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
