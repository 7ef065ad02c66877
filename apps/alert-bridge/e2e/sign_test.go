//go:build e2e

package e2e

import "github.com/unsilo/unsilo/apps/alert-bridge/auth"

func sign(secret, ts string, body []byte) string { return auth.Sign(secret, ts, body) }
