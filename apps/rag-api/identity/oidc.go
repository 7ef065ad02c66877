// Package identity resolves who is calling from an OIDC bearer token.
package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Principal is a verified caller.
type Principal struct {
	Subject string   // the token's sub
	UserID  string   // the user claim (email by default), for per-user ACLs in Kendra
	Groups  []string // the groups claim
}

// Config configures OIDC verification.
type Config struct {
	Issuer   string
	Audience string // the client id tokens must be issued to (required)
	// GroupsClaim holds the user's groups (Cognito: cognito:groups,
	// Okta/Keycloak/Entra: groups).
	GroupsClaim string
	// UserClaim names the user to Kendra (default email: Kendra's Google
	// Drive and Gmail connectors store per-user ACLs by email address).
	UserClaim string
}

// OIDC verifies bearer tokens against an issuer's published keys.
type OIDC struct {
	cfg       Config
	verifier  *oidc.IDTokenVerifier
	endpoints Endpoints
}

// Endpoints are the issuer's login endpoints, from its discovery document.
type Endpoints struct {
	Authorization, Token, EndSession string
}

// New discovers the issuer's keys and endpoints (/.well-known/openid-configuration).
func New(ctx context.Context, cfg Config) (*OIDC, error) {
	if cfg.Audience == "" {
		// Without it, a token the issuer minted for any other application
		// (any client of a shared Cognito pool or Keycloak realm) would pass.
		return nil, errors.New("--oidc-audience is required with --oidc-issuer: the client id this API's tokens are issued to")
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery for %s: %w", cfg.Issuer, err)
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.UserClaim == "" {
		cfg.UserClaim = "email"
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	ep := p.Endpoint()
	// The audience is checked by hand (checkAudience): Cognito access tokens
	// carry client_id instead of aud.
	v := p.Verifier(&oidc.Config{SkipClientIDCheck: true})
	return &OIDC{cfg: cfg, verifier: v, endpoints: Endpoints{Authorization: ep.AuthURL, Token: ep.TokenURL, EndSession: extra.EndSession}}, nil
}

// Endpoints returns the issuer's login endpoints.
func (o *OIDC) Endpoints() Endpoints { return o.endpoints }

// Config returns the configuration in use.
func (o *OIDC) Config() Config { return o.cfg }

// Identify verifies the request's bearer token.
func (o *OIDC) Identify(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return Principal{}, errors.New("missing bearer token (Authorization: Bearer <OIDC token>)")
	}
	tok, err := o.verifier.Verify(r.Context(), strings.TrimSpace(raw))
	if err != nil {
		return Principal{}, fmt.Errorf("invalid bearer token: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, fmt.Errorf("invalid bearer token claims: %v", err)
	}
	if err := checkAudience(tok.Audience, claims, o.cfg.Audience); err != nil {
		return Principal{}, err
	}
	groups, err := stringList(claims, o.cfg.GroupsClaim)
	if err != nil {
		return Principal{}, err
	}
	user, _ := claims[o.cfg.UserClaim].(string)
	return Principal{Subject: tok.Subject, UserID: user, Groups: groups}, nil
}

// checkAudience accepts a token whose aud includes the audience, or, when
// it has no aud at all, whose client_id is the audience — the same rule
// API Gateway's JWT authorizer applies, and what Cognito access tokens need.
func checkAudience(aud []string, claims map[string]any, want string) error {
	if len(aud) > 0 {
		if slices.Contains(aud, want) {
			return nil
		}
		return fmt.Errorf("invalid bearer token: issued to %s, not to %s", strings.Join(aud, ","), want)
	}
	if cid, _ := claims["client_id"].(string); cid == want {
		return nil
	}
	return fmt.Errorf("invalid bearer token: it names no audience (aud or client_id %s)", want)
}

func stringList(claims map[string]any, name string) ([]string, error) {
	var out []string
	switch v := claims[name].(type) {
	case []any:
		for _, g := range v {
			s, ok := g.(string)
			if !ok {
				return nil, fmt.Errorf("claim %q holds %T, want a list of strings", name, g)
			}
			if s != "" {
				out = append(out, s)
			}
		}
	case string:
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
	case nil:
	default:
		return nil, fmt.Errorf("claim %q is %T, want a list of strings", name, v)
	}
	return out, nil
}
