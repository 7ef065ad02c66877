// Package identity resolves the caller's groups from an OIDC bearer token.
package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDC verifies bearer tokens against an issuer's published keys and reads
// the user's groups from a claim (Cognito: "cognito:groups", Okta/Keycloak: "groups").
type OIDC struct {
	verifier    *oidc.IDTokenVerifier
	groupsClaim string
}

// New discovers issuer's keys (/.well-known/openid-configuration) and returns
// an identity source accepting tokens for audience.
func New(ctx context.Context, issuer, audience, groupsClaim string) (*OIDC, error) {
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery for %s: %w", issuer, err)
	}
	if groupsClaim == "" {
		groupsClaim = "groups"
	}
	return &OIDC{verifier: p.Verifier(&oidc.Config{ClientID: audience, SkipClientIDCheck: audience == ""}), groupsClaim: groupsClaim}, nil
}

// Groups implements server.Identity.
func (o *OIDC) Groups(r *http.Request) (string, []string, error) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return "", nil, errors.New("missing bearer token (Authorization: Bearer <OIDC token>)")
	}
	tok, err := o.verifier.Verify(r.Context(), strings.TrimSpace(raw))
	if err != nil {
		return "", nil, fmt.Errorf("invalid bearer token: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return "", nil, fmt.Errorf("invalid bearer token claims: %v", err)
	}
	var groups []string
	switch v := claims[o.groupsClaim].(type) {
	case []any:
		for _, g := range v {
			if s, ok := g.(string); ok && s != "" {
				groups = append(groups, s)
			}
		}
	case string:
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	case nil:
	default:
		return "", nil, fmt.Errorf("claim %q is %T, want a list of strings", o.groupsClaim, v)
	}
	return tok.Subject, groups, nil
}
