//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// activateArgs picks the activation command the installed n8n offers:
// `update:workflow --all --active=true` in 1.x, `publish:workflow` where
// that replaced it.
func activateArgs(t *testing.T, env []string, n8n string) []string {
	t.Helper()
	help := run(t, env, time.Minute, n8n, "--help")
	if strings.Contains(help, "update:workflow") {
		return []string{"update:workflow", "--all", "--active=true"}
	}
	if strings.Contains(help, "publish:workflow") {
		return []string{"publish:workflow", "--all"}
	}
	t.Fatalf("n8n offers neither update:workflow nor publish:workflow:\n%s", help)
	return nil
}
